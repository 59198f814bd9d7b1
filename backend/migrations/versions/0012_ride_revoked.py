"""A ride may be ``revoked``: ridden after its credential, phone or person was revoked or
suspended. It is stored (a retried batch stays a duplicate) but charged to nobody.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-29 12:30:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

BEFORE = "outcome IN ('charged', 'capped', 'arrears', 'copy')"
AFTER = "outcome IN ('charged', 'capped', 'arrears', 'copy', 'revoked')"


def _outcomes(condition):
    with op.batch_alter_table('rides', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_rides_outcome_known'), type_='check')
        batch_op.create_check_constraint('outcome_known', condition)


def upgrade():
    _outcomes(AFTER)


def downgrade():
    # A revoked ride has no older outcome to fall back to: it stays a stored ride that charged
    # nobody, which the old schema calls a copy (fare 0, and its flag names the real reason).
    op.execute("UPDATE rides SET outcome = 'copy' WHERE outcome = 'revoked'")
    _outcomes(BEFORE)
