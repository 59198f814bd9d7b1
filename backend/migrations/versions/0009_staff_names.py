"""A staff account's name as people read it (收费员 王晓燕), shown in the counter's header and on
receipts instead of the login.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-29 09:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    # A nullable column: a plain ALTER TABLE on both databases (no batch copy of accounts).
    op.add_column('accounts', sa.Column('display_name', sa.String(length=40), nullable=True))


def downgrade():
    with op.batch_alter_table('accounts', schema=None) as batch_op:
        batch_op.drop_column('display_name')
