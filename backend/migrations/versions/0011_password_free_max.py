"""Each region's maximum for small password-free payment (小额免密): a patient chooses a limit up to
it in the app's settings. Existing regions get ¥300.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-29 11:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('regions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('password_free_max_fen', sa.BigInteger(), nullable=False,
                                      server_default='30000'))
        batch_op.create_check_constraint('password_free_max_positive',
                                         'password_free_max_fen > 0')


def downgrade():
    with op.batch_alter_table('regions', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_regions_password_free_max_positive'), type_='check')
        batch_op.drop_column('password_free_max_fen')
