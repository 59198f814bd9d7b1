"""Family grants, phones shown for a relative, and the transit wallet's ledger.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24 13:07:12.005419

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('wallet_entries',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('person_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('amount_fen', sa.BigInteger(), nullable=False),
    sa.Column('balance_after_fen', sa.BigInteger(), nullable=False),
    sa.Column('idempotency_key', sa.String(length=80), nullable=False),
    sa.Column('provider_ref', sa.String(length=80), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind IN ('topup', 'ride', 'adjust')", name=op.f('ck_wallet_entries_kind_known')),
    sa.CheckConstraint('amount_fen <> 0', name=op.f('ck_wallet_entries_amount_nonzero')),
    sa.ForeignKeyConstraint(['person_id'], ['persons.id'], name=op.f('fk_wallet_entries_person_id_persons')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_wallet_entries')),
    sa.UniqueConstraint('person_id', 'idempotency_key', name=op.f('uq_wallet_entries_person_id_idempotency_key'))
    )
    with op.batch_alter_table('wallet_entries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_wallet_entries_person_id'), ['person_id'], unique=False)

    op.create_table('family_grants',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('person_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('grantor_account_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('member_account_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('invitation_hash', sa.String(length=64).with_variant(sa.String(length=64, collation='C'), 'postgresql'), nullable=False),
    sa.Column('invitation_expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=8), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('accepted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status IN ('pending', 'active', 'revoked')", name=op.f('ck_family_grants_status_known')),
    sa.ForeignKeyConstraint(['grantor_account_id'], ['accounts.id'], name=op.f('fk_family_grants_grantor_account_id_accounts')),
    sa.ForeignKeyConstraint(['member_account_id'], ['accounts.id'], name=op.f('fk_family_grants_member_account_id_accounts')),
    sa.ForeignKeyConstraint(['person_id'], ['persons.id'], name=op.f('fk_family_grants_person_id_persons')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_family_grants')),
    sa.UniqueConstraint('invitation_hash', name=op.f('uq_family_grants_invitation_hash'))
    )
    with op.batch_alter_table('family_grants', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_family_grants_member_account_id'), ['member_account_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_family_grants_person_id'), ['person_id'], unique=False)

    with op.batch_alter_table('devices', schema=None) as batch_op:
        batch_op.add_column(sa.Column('grant_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True))
        batch_op.create_index(batch_op.f('ix_devices_grant_id'), ['grant_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_devices_grant_id_family_grants'), 'family_grants', ['grant_id'], ['id'])



def downgrade():
    with op.batch_alter_table('devices', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_devices_grant_id_family_grants'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_devices_grant_id'))
        batch_op.drop_column('grant_id')

    with op.batch_alter_table('family_grants', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_family_grants_person_id'))
        batch_op.drop_index(batch_op.f('ix_family_grants_member_account_id'))

    op.drop_table('family_grants')
    with op.batch_alter_table('wallet_entries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_wallet_entries_person_id'))

    op.drop_table('wallet_entries')
