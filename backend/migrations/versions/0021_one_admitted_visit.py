"""Venue visits (issue 19): a code is admitted once. Two gates uploading the same code at the
same moment each read "not seen elsewhere" and both stored it as admitted; the later of the two is
now refused by this index (a 409 the kiosk sends again) and stored as a copy on its next try.
Pairs stored before it: the later upload becomes the copy.

Revision ID: 0021
Revises: 0020
Create Date: 2026-11-29 16:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None

ADMITTED = sa.text("outcome = 'admitted'")


def upgrade():
    op.execute(
        "UPDATE visits SET outcome = 'copy' WHERE outcome = 'admitted' AND EXISTS ("
        "SELECT 1 FROM visits AS first WHERE first.credential_jti = visits.credential_jti "
        "AND first.code_step = visits.code_step AND first.outcome = 'admitted' "
        "AND first.id < visits.id)")
    op.create_index('uq_visits_admitted_code', 'visits', ['credential_jti', 'code_step'],
                    unique=True, postgresql_where=ADMITTED, sqlite_where=ADMITTED)


def downgrade():
    op.drop_index('uq_visits_admitted_code', table_name='visits')
