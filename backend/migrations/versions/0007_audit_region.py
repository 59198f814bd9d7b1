"""The region an audit entry concerns (NULL: the whole zone), so a region's admin reads its own.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-24 22:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

# Adding a nullable column is a plain ALTER TABLE on both databases: the append-only triggers stay.
# Dropping it makes SQLite's batch mode copy the table, which drops them: they are put back.
SQLITE_TRIGGERS = [
    """CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
       BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END""",
    """CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
       BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END""",
]


def upgrade():
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.add_column(sa.Column('region_code', sa.String(length=6), nullable=True))
        batch_op.create_index(batch_op.f('ix_audit_log_region_code'), ['region_code'], unique=False)


def downgrade():
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_update")
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_delete")
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_log_region_code'))
        batch_op.drop_column('region_code')
    if sqlite:
        for statement in SQLITE_TRIGGERS:
            op.execute(statement)
