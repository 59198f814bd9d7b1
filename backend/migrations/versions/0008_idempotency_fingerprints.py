"""Idempotency fingerprints on settlements and top-up claims taken before the provider is called.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29 01:20:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('settlements', schema=None) as batch_op:
        batch_op.add_column(sa.Column('request_hash', sa.String(length=64), nullable=True))
    op.create_table(
        'payment_claims',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('person_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('idempotency_key', sa.String(length=80), nullable=False),
        sa.Column('request_hash', sa.String(length=64), nullable=False),
        sa.Column('amount_fen', sa.BigInteger(), nullable=False),
        sa.Column('state', sa.String(length=10), nullable=False),
        sa.Column('claimed_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('entry_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
        sa.CheckConstraint("state IN ('claimed', 'paid')", name=op.f('ck_payment_claims_state_known')),
        sa.CheckConstraint('amount_fen > 0', name=op.f('ck_payment_claims_amount_positive')),
        sa.ForeignKeyConstraint(['person_id'], ['persons.id'],
                                name=op.f('fk_payment_claims_person_id_persons')),
        sa.ForeignKeyConstraint(['entry_id'], ['wallet_entries.id'],
                                name=op.f('fk_payment_claims_entry_id_wallet_entries')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_payment_claims')),
        sa.UniqueConstraint('person_id', 'idempotency_key',
                            name=op.f('uq_payment_claims_person_id_idempotency_key')),
    )


def downgrade():
    op.drop_table('payment_claims')
    with op.batch_alter_table('settlements', schema=None) as batch_op:
        batch_op.drop_column('request_hash')
