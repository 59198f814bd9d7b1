"""Hot-path tables and indexes (issue 21).

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-29 05:00:00.000000

"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401


# revision identifiers, used by Alembic.
revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade():
    # Ride ingest's daily cap sums a person's fares of the day for every batch: without this
    # index that sum read the whole rides table (it grows by every ride of the zone).
    with op.batch_alter_table('rides', schema=None) as batch_op:
        batch_op.create_index('ix_rides_person_day', ['person_id', 'day'], unique=False)


def downgrade():
    with op.batch_alter_table('rides', schema=None) as batch_op:
        batch_op.drop_index('ix_rides_person_day')
