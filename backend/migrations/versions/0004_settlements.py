"""Settlements, refunds and yearly benefit counters.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24 13:26:15.117426

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('benefit_counters',
    sa.Column('person_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('year', sa.SmallInteger(), nullable=False),
    sa.Column('deductible_used_fen', sa.BigInteger(), nullable=False),
    sa.Column('fund_paid_fen', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['persons.id'], name=op.f('fk_benefit_counters_person_id_persons')),
    sa.PrimaryKeyConstraint('person_id', 'year', name=op.f('pk_benefit_counters'))
    )
    op.create_table('settlements',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('institution_code', sa.String(length=12), nullable=False),
    sa.Column('person_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('insured_region', sa.String(length=6), nullable=False),
    sa.Column('treating_region', sa.String(length=6), nullable=False),
    sa.Column('cashier_account_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('credential_jti', sa.String(length=11).with_variant(sa.String(length=11, collation='C'), 'postgresql'), nullable=True),
    sa.Column('code_step', sa.Integer(), nullable=True),
    sa.Column('idempotency_key', sa.String(length=80), nullable=False),
    sa.Column('reverses_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('year', sa.SmallInteger(), nullable=False),
    sa.Column('total_fen', sa.BigInteger(), nullable=False),
    sa.Column('fund_fen', sa.BigInteger(), nullable=False),
    sa.Column('personal_account_fen', sa.BigInteger(), nullable=False),
    sa.Column('cash_fen', sa.BigInteger(), nullable=False),
    sa.Column('deductible_fen', sa.BigInteger(), nullable=False),
    sa.Column('class_b_self_fen', sa.BigInteger(), nullable=False),
    sa.Column('class_c_fen', sa.BigInteger(), nullable=False),
    sa.Column('coinsurance_fen', sa.BigInteger(), nullable=False),
    sa.Column('reason', sa.String(length=200), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind IN ('settlement', 'refund')", name=op.f('ck_settlements_kind_known')),
    sa.CheckConstraint('fund_fen + personal_account_fen + cash_fen = total_fen', name=op.f('ck_settlements_parts_add_up')),
    sa.ForeignKeyConstraint(['cashier_account_id'], ['accounts.id'], name=op.f('fk_settlements_cashier_account_id_accounts')),
    sa.ForeignKeyConstraint(['institution_code'], ['institutions.code'], name=op.f('fk_settlements_institution_code_institutions')),
    sa.ForeignKeyConstraint(['insured_region'], ['regions.code'], name=op.f('fk_settlements_insured_region_regions')),
    sa.ForeignKeyConstraint(['person_id'], ['persons.id'], name=op.f('fk_settlements_person_id_persons')),
    sa.ForeignKeyConstraint(['reverses_id'], ['settlements.id'], name=op.f('fk_settlements_reverses_id_settlements')),
    sa.ForeignKeyConstraint(['treating_region'], ['regions.code'], name=op.f('fk_settlements_treating_region_regions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_settlements')),
    sa.UniqueConstraint('credential_jti', 'code_step', name=op.f('uq_settlements_credential_jti_code_step')),
    sa.UniqueConstraint('institution_code', 'idempotency_key', name=op.f('uq_settlements_institution_code_idempotency_key')),
    sa.UniqueConstraint('reverses_id', name=op.f('uq_settlements_reverses_id'))
    )
    with op.batch_alter_table('settlements', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_settlements_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_settlements_institution_code'), ['institution_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_settlements_person_id'), ['person_id'], unique=False)

    op.create_table('settlement_lines',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('settlement_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('category', sa.String(length=14), nullable=False),
    sa.Column('coverage_class', sa.String(length=1), nullable=False),
    sa.Column('description', sa.String(length=80), nullable=False),
    sa.Column('amount_fen', sa.BigInteger(), nullable=False),
    sa.CheckConstraint("category IN ('registration', 'drug', 'examination', 'treatment', 'material')", name=op.f('ck_settlement_lines_category_known')),
    sa.CheckConstraint("coverage_class IN ('A', 'B', 'C')", name=op.f('ck_settlement_lines_class_known')),
    sa.ForeignKeyConstraint(['settlement_id'], ['settlements.id'], name=op.f('fk_settlement_lines_settlement_id_settlements')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_settlement_lines'))
    )
    with op.batch_alter_table('settlement_lines', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_settlement_lines_settlement_id'), ['settlement_id'], unique=False)



def downgrade():
    with op.batch_alter_table('settlement_lines', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_settlement_lines_settlement_id'))

    op.drop_table('settlement_lines')
    with op.batch_alter_table('settlements', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_settlements_person_id'))
        batch_op.drop_index(batch_op.f('ix_settlements_institution_code'))
        batch_op.drop_index(batch_op.f('ix_settlements_created_at'))

    op.drop_table('settlements')
    op.drop_table('benefit_counters')
