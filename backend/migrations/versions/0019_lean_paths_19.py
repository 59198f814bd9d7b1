"""Hot-path tables and indexes (issue 21), part 19: cost as the zone grows. Nothing to change:
bench/growth_bench.py measured verify, settle and the clearing report with 10 k and 3 M insured
persons and with 0 and 10 M settlements (docs/benchmarks.md, "Cost as the zone grows"), and every
statement on those paths already finds its rows through an existing index (persons by id and
pseudonym, settlements by person, idempotency key and creation time, audit flags and refunds by
settlement). The revision stays, empty, so that the numbering of issue 21's migrations holds.

Revision ID: 0019
Revises: 0018
Create Date: 2026-11-29 08:00:00.000000

"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401


# revision identifiers, used by Alembic.
revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
