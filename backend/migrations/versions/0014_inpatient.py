"""Inpatient stays, their fee lines and inpatient policies (issue 17).

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-29 05:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
CATEGORIES = ("bed", "consultation", "examination", "laboratory", "treatment", "surgery",
              "nursing", "drug", "material", "other")
RATIOS = ("ratio_l1_a_bp", "ratio_l2_a_bp", "ratio_l3_a_bp", "ratio_l1_b_bp", "ratio_l2_b_bp",
          "ratio_l3_b_bp", "class_b_self_share_bp", "later_admission_deductible_bp")


def _fk(table, column, target):
    return sa.ForeignKeyConstraint([column], [target],
                                   name=op.f(f'fk_{table}_{column}_{target.split(".")[0]}'))


def upgrade():
    op.create_table(
        'inpatient_policies',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('region_code', sa.String(length=6), nullable=False),
        sa.Column('insurance_class', sa.String(length=10), nullable=False),
        sa.Column('deductible_mode', sa.String(length=14), nullable=False),
        sa.Column('deductible_year_fen', sa.BigInteger(), nullable=False),
        sa.Column('deductible_l1_fen', sa.BigInteger(), nullable=False),
        sa.Column('deductible_l2_fen', sa.BigInteger(), nullable=False),
        sa.Column('deductible_l3_fen', sa.BigInteger(), nullable=False),
        *[sa.Column(name, sa.SmallInteger(), nullable=False) for name in RATIOS],
        sa.Column('annual_cap_fen', sa.BigInteger(), nullable=False),
        sa.Column('cap_shared_with_outpatient', sa.Boolean(), nullable=False),
        sa.Column('has_personal_account', sa.Boolean(), nullable=False),
        sa.Column('personal_account_pays_deductible', sa.Boolean(), nullable=False),
        sa.Column('personal_account_pays_class_c', sa.Boolean(), nullable=False),
        sa.Column('audit_max_stay_days', sa.SmallInteger(), nullable=False),
        sa.Column('audit_daily_cost_fen', sa.BigInteger(), nullable=False),
        sa.CheckConstraint("insurance_class IN ('employee', 'resident')",
                           name=op.f('ck_inpatient_policies_class_known')),
        sa.CheckConstraint("deductible_mode IN ('per_year', 'per_admission')",
                           name=op.f('ck_inpatient_policies_mode_known')),
        sa.CheckConstraint("deductible_year_fen >= 0 AND deductible_l1_fen >= 0 AND "
                           "deductible_l2_fen >= 0 AND deductible_l3_fen >= 0 AND "
                           "annual_cap_fen > 0 AND audit_daily_cost_fen > 0 AND "
                           "audit_max_stay_days > 0",
                           name=op.f('ck_inpatient_policies_amounts_sane')),
        sa.CheckConstraint(" AND ".join(f"{c} BETWEEN 0 AND 10000" for c in RATIOS),
                           name=op.f('ck_inpatient_policies_ratios_in_range')),
        _fk('inpatient_policies', 'region_code', 'regions.code'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_inpatient_policies')),
        sa.UniqueConstraint('region_code', 'insurance_class',
                            name=op.f('uq_inpatient_policies_region_code_insurance_class')),
        sqlite_autoincrement=True,
    )
    op.create_table(
        'inpatient_stays',
        sa.Column('id', BIG_ID, nullable=False),
        sa.Column('institution_code', sa.String(length=12), nullable=False),
        sa.Column('person_id', BIG_ID, nullable=False),
        sa.Column('insured_region', sa.String(length=6), nullable=False),
        sa.Column('treating_region', sa.String(length=6), nullable=False),
        sa.Column('admission_no', sa.String(length=30), nullable=False),
        sa.Column('ward', sa.String(length=40), nullable=False),
        sa.Column('diagnosis_code', sa.String(length=10), nullable=False),
        sa.Column('diagnosis_text', sa.String(length=100), nullable=False),
        sa.Column('admitted_on', sa.Date(), nullable=False),
        sa.Column('discharged_on', sa.Date(), nullable=True),
        sa.Column('status', sa.String(length=8), nullable=False),
        sa.Column('settlement_id', BIG_ID, nullable=True),
        sa.Column('settled_count', sa.SmallInteger(), nullable=False),
        sa.Column('credential_jti', sa.String(length=11).with_variant(
            sa.String(length=11, collation='C'), 'postgresql'), nullable=True),
        sa.Column('code_step', sa.Integer(), nullable=True),
        sa.Column('manual_reason', sa.String(length=120), nullable=True),
        sa.Column('admitted_by', BIG_ID, nullable=False),
        sa.Column('request_hash', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("status IN ('open', 'settled')",
                           name=op.f('ck_inpatient_stays_status_known')),
        sa.CheckConstraint("discharged_on IS NULL OR discharged_on >= admitted_on",
                           name=op.f('ck_inpatient_stays_discharge_after_admission')),
        _fk('inpatient_stays', 'institution_code', 'institutions.code'),
        _fk('inpatient_stays', 'person_id', 'persons.id'),
        _fk('inpatient_stays', 'insured_region', 'regions.code'),
        _fk('inpatient_stays', 'treating_region', 'regions.code'),
        _fk('inpatient_stays', 'settlement_id', 'settlements.id'),
        _fk('inpatient_stays', 'admitted_by', 'accounts.id'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_inpatient_stays')),
        sa.UniqueConstraint('institution_code', 'admission_no',
                            name=op.f('uq_inpatient_stays_institution_code_admission_no')),
        sa.UniqueConstraint('credential_jti', 'code_step',
                            name=op.f('uq_inpatient_stays_credential_jti_code_step')),
    )
    for column in ('institution_code', 'person_id', 'admitted_on', 'discharged_on', 'created_at'):
        op.create_index(op.f(f'ix_inpatient_stays_{column}'), 'inpatient_stays', [column])
    op.create_table(
        'inpatient_fee_lines',
        sa.Column('id', BIG_ID, nullable=False),
        sa.Column('stay_id', BIG_ID, nullable=False),
        sa.Column('line_no', sa.Integer(), nullable=False),
        sa.Column('category', sa.String(length=14), nullable=False),
        sa.Column('coverage_class', sa.String(length=1), nullable=False),
        sa.Column('item', sa.String(length=80), nullable=False),
        sa.Column('quantity', sa.Integer(), nullable=False),
        sa.Column('unit_price_fen', sa.BigInteger(), nullable=False),
        sa.Column('amount_fen', sa.BigInteger(), nullable=False),
        sa.Column('service_date', sa.Date(), nullable=False),
        sa.Column('added_by', BIG_ID, nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('cancelled_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('cancelled_by', BIG_ID, nullable=True),
        sa.Column('cancel_reason', sa.String(length=200), nullable=True),
        sa.CheckConstraint("coverage_class IN ('A', 'B', 'C')",
                           name=op.f('ck_inpatient_fee_lines_class_known')),
        sa.CheckConstraint("category IN (" + ", ".join(f"'{c}'" for c in CATEGORIES) + ")",
                           name=op.f('ck_inpatient_fee_lines_category_known')),
        sa.CheckConstraint("quantity > 0 AND unit_price_fen > 0 AND "
                           "amount_fen = quantity * unit_price_fen",
                           name=op.f('ck_inpatient_fee_lines_amount_is_product')),
        _fk('inpatient_fee_lines', 'stay_id', 'inpatient_stays.id'),
        _fk('inpatient_fee_lines', 'added_by', 'accounts.id'),
        _fk('inpatient_fee_lines', 'cancelled_by', 'accounts.id'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_inpatient_fee_lines')),
        sa.UniqueConstraint('stay_id', 'line_no', name=op.f('uq_inpatient_fee_lines_stay_id_line_no')),
    )
    op.create_table(
        'inpatient_settlements',
        sa.Column('settlement_id', BIG_ID, nullable=False),
        sa.Column('stay_id', BIG_ID, nullable=False),
        sa.Column('attempt', sa.SmallInteger(), nullable=False),
        sa.Column('discharged_on', sa.Date(), nullable=False),
        sa.Column('days', sa.Integer(), nullable=False),
        sa.Column('admission_in_year', sa.SmallInteger(), nullable=False),
        sa.Column('deductible_mode', sa.String(length=14), nullable=False),
        sa.Column('cap_shared_with_outpatient', sa.Boolean(), nullable=False),
        _fk('inpatient_settlements', 'settlement_id', 'settlements.id'),
        _fk('inpatient_settlements', 'stay_id', 'inpatient_stays.id'),
        sa.PrimaryKeyConstraint('settlement_id', name=op.f('pk_inpatient_settlements')),
        sa.UniqueConstraint('stay_id', 'attempt', name=op.f('uq_inpatient_settlements_stay_id_attempt')),
    )
    op.create_index(op.f('ix_inpatient_settlements_stay_id'), 'inpatient_settlements', ['stay_id'])
    op.create_table(
        'inpatient_settlement_lines',
        sa.Column('settlement_id', BIG_ID, nullable=False),
        sa.Column('line_id', BIG_ID, nullable=False),
        _fk('inpatient_settlement_lines', 'settlement_id', 'settlements.id'),
        _fk('inpatient_settlement_lines', 'line_id', 'inpatient_fee_lines.id'),
        sa.PrimaryKeyConstraint('settlement_id', 'line_id', name=op.f('pk_inpatient_settlement_lines')),
    )
    op.create_table(
        'inpatient_counters',
        sa.Column('person_id', BIG_ID, nullable=False),
        sa.Column('year', sa.SmallInteger(), nullable=False),
        sa.Column('deductible_used_fen', sa.BigInteger(), nullable=False),
        sa.Column('fund_paid_fen', sa.BigInteger(), nullable=False),
        _fk('inpatient_counters', 'person_id', 'persons.id'),
        sa.PrimaryKeyConstraint('person_id', 'year', name=op.f('pk_inpatient_counters')),
    )


def downgrade():
    op.drop_table('inpatient_counters')
    op.drop_table('inpatient_settlement_lines')
    op.drop_index(op.f('ix_inpatient_settlements_stay_id'), table_name='inpatient_settlements')
    op.drop_table('inpatient_settlements')
    op.drop_table('inpatient_fee_lines')
    for column in ('institution_code', 'person_id', 'admitted_on', 'discharged_on', 'created_at'):
        op.drop_index(op.f(f'ix_inpatient_stays_{column}'), table_name='inpatient_stays')
    op.drop_table('inpatient_stays')
    op.drop_table('inpatient_policies')
