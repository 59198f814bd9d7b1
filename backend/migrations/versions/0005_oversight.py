"""Hospital-system API keys and joint-audit flags.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24 13:28:52.160972

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('api_keys',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('prefix', sa.String(length=12).with_variant(sa.String(length=12, collation='C'), 'postgresql'), nullable=False),
    sa.Column('secret_hash', sa.String(length=64), nullable=False),
    sa.Column('account_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('institution_code', sa.String(length=12), nullable=False),
    sa.Column('label', sa.String(length=60), nullable=False),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_api_keys_account_id_accounts')),
    sa.ForeignKeyConstraint(['institution_code'], ['institutions.code'], name=op.f('fk_api_keys_institution_code_institutions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_keys')),
    sa.UniqueConstraint('prefix', name=op.f('uq_api_keys_prefix'))
    )
    with op.batch_alter_table('api_keys', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_api_keys_institution_code'), ['institution_code'], unique=False)

    op.create_table('audit_flags',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('settlement_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('rule', sa.String(length=30), nullable=False),
    sa.Column('insured_region', sa.String(length=6), nullable=False),
    sa.Column('treating_region', sa.String(length=6), nullable=False),
    sa.Column('detail', sa.String(length=200), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('note', sa.String(length=500), nullable=True),
    sa.Column('decided_by', sa.String(length=64), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("status IN ('open', 'confirmed', 'dismissed')", name=op.f('ck_audit_flags_status_known')),
    sa.ForeignKeyConstraint(['insured_region'], ['regions.code'], name=op.f('fk_audit_flags_insured_region_regions')),
    sa.ForeignKeyConstraint(['settlement_id'], ['settlements.id'], name=op.f('fk_audit_flags_settlement_id_settlements')),
    sa.ForeignKeyConstraint(['treating_region'], ['regions.code'], name=op.f('fk_audit_flags_treating_region_regions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_flags')),
    sa.UniqueConstraint('settlement_id', 'rule', name=op.f('uq_audit_flags_settlement_id_rule'))
    )
    with op.batch_alter_table('audit_flags', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_flags_insured_region'), ['insured_region'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_flags_settlement_id'), ['settlement_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_flags_treating_region'), ['treating_region'], unique=False)



def downgrade():
    with op.batch_alter_table('audit_flags', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_flags_treating_region'))
        batch_op.drop_index(batch_op.f('ix_audit_flags_settlement_id'))
        batch_op.drop_index(batch_op.f('ix_audit_flags_insured_region'))

    op.drop_table('audit_flags')
    with op.batch_alter_table('api_keys', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_keys_institution_code'))

    op.drop_table('api_keys')
