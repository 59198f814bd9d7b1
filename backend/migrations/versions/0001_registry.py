"""Registry, accounts and the append-only audit log.

Revision ID: 0001
Revises: 
Create Date: 2026-11-24 12:17:44.287882

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


APPEND_ONLY = {
    "postgresql": [
        """CREATE FUNCTION audit_log_is_append_only() RETURNS trigger AS $$
           BEGIN RAISE EXCEPTION 'audit_log is append-only'; END; $$ LANGUAGE plpgsql""",
        """CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
           FOR EACH ROW EXECUTE FUNCTION audit_log_is_append_only()""",
    ],
    "sqlite": [
        """CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
           BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END""",
        """CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
           BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END""",
    ],
}
DROP_APPEND_ONLY = {
    "postgresql": ["DROP TRIGGER audit_log_append_only ON audit_log",
                   "DROP FUNCTION audit_log_is_append_only()"],
    "sqlite": ["DROP TRIGGER audit_log_no_update", "DROP TRIGGER audit_log_no_delete"],
}


def upgrade():
    op.create_table('audit_log',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=64), nullable=False),
    sa.Column('action', sa.String(length=40), nullable=False),
    sa.Column('target_type', sa.String(length=30), nullable=False),
    sa.Column('target_id', sa.String(length=64), nullable=False),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.Column('request_id', sa.String(length=64), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_log'))
    )
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_log_at'), ['at'], unique=False)

    op.create_table('bus_lines',
    sa.Column('code', sa.String(length=16), nullable=False),
    sa.Column('name_zh', sa.String(length=60), nullable=False),
    sa.Column('name_en', sa.String(length=80), nullable=False),
    sa.Column('fare_fen', sa.BigInteger(), nullable=False),
    sa.CheckConstraint('fare_fen > 0', name=op.f('ck_bus_lines_fare_positive')),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_bus_lines'))
    )
    op.create_table('regions',
    sa.Column('code', sa.String(length=6), nullable=False),
    sa.Column('name_zh', sa.String(length=40), nullable=False),
    sa.Column('name_en', sa.String(length=60), nullable=False),
    sa.Column('province_zh', sa.String(length=20), nullable=False),
    sa.Column('province_en', sa.String(length=40), nullable=False),
    sa.Column('audit_bill_threshold_fen', sa.BigInteger(), nullable=False),
    sa.CheckConstraint('audit_bill_threshold_fen > 0', name=op.f('ck_regions_threshold_positive')),
    sa.CheckConstraint('length(code) = 6', name=op.f('ck_regions_code_six_digits')),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_regions'))
    )
    op.create_table('bus_line_regions',
    sa.Column('line_code', sa.String(length=16), nullable=False),
    sa.Column('region_code', sa.String(length=6), nullable=False),
    sa.ForeignKeyConstraint(['line_code'], ['bus_lines.code'], name=op.f('fk_bus_line_regions_line_code_bus_lines'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['region_code'], ['regions.code'], name=op.f('fk_bus_line_regions_region_code_regions')),
    sa.PrimaryKeyConstraint('line_code', 'region_code', name=op.f('pk_bus_line_regions'))
    )
    op.create_table('institutions',
    sa.Column('code', sa.String(length=12), nullable=False),
    sa.Column('name_zh', sa.String(length=80), nullable=False),
    sa.Column('name_en', sa.String(length=120), nullable=False),
    sa.Column('region_code', sa.String(length=6), nullable=False),
    sa.Column('level', sa.SmallInteger(), nullable=False),
    sa.Column('networked', sa.Boolean(), nullable=False),
    sa.Column('accepts_evoucher', sa.Boolean(), nullable=False),
    sa.CheckConstraint('level BETWEEN 1 AND 3', name=op.f('ck_institutions_level_1_to_3')),
    sa.CheckConstraint('networked OR NOT accepts_evoucher', name=op.f('ck_institutions_evoucher_needs_network')),
    sa.ForeignKeyConstraint(['region_code'], ['regions.code'], name=op.f('fk_institutions_region_code_regions')),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_institutions'))
    )
    with op.batch_alter_table('institutions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_institutions_region_code'), ['region_code'], unique=False)

    op.create_table('medical_policies',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('region_code', sa.String(length=6), nullable=False),
    sa.Column('insurance_class', sa.String(length=10), nullable=False),
    sa.Column('deductible_fen', sa.BigInteger(), nullable=False),
    sa.Column('annual_cap_fen', sa.BigInteger(), nullable=False),
    sa.Column('ratio_l1_a_bp', sa.SmallInteger(), nullable=False),
    sa.Column('ratio_l2_a_bp', sa.SmallInteger(), nullable=False),
    sa.Column('ratio_l3_a_bp', sa.SmallInteger(), nullable=False),
    sa.Column('ratio_l1_b_bp', sa.SmallInteger(), nullable=False),
    sa.Column('ratio_l2_b_bp', sa.SmallInteger(), nullable=False),
    sa.Column('ratio_l3_b_bp', sa.SmallInteger(), nullable=False),
    sa.Column('class_b_self_share_bp', sa.SmallInteger(), nullable=False),
    sa.Column('has_personal_account', sa.Boolean(), nullable=False),
    sa.Column('personal_account_pays_deductible', sa.Boolean(), nullable=False),
    sa.Column('personal_account_pays_class_c', sa.Boolean(), nullable=False),
    sa.CheckConstraint("insurance_class IN ('employee', 'resident')", name=op.f('ck_medical_policies_class_known')),
    sa.CheckConstraint('deductible_fen >= 0 AND annual_cap_fen > 0', name=op.f('ck_medical_policies_amounts_sane')),
    sa.CheckConstraint('ratio_l1_a_bp BETWEEN 0 AND 10000 AND ratio_l2_a_bp BETWEEN 0 AND 10000 AND ratio_l3_a_bp BETWEEN 0 AND 10000 AND ratio_l1_b_bp BETWEEN 0 AND 10000 AND ratio_l2_b_bp BETWEEN 0 AND 10000 AND ratio_l3_b_bp BETWEEN 0 AND 10000 AND class_b_self_share_bp BETWEEN 0 AND 10000', name=op.f('ck_medical_policies_ratios_in_range')),
    sa.ForeignKeyConstraint(['region_code'], ['regions.code'], name=op.f('fk_medical_policies_region_code_regions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_medical_policies')),
    sqlite_autoincrement=True
    )
    op.create_table('persons',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('holder_id', sa.String(length=22).with_variant(sa.String(length=22, collation='C'), 'postgresql'), nullable=False),
    sa.Column('national_id_hash', sa.String(length=32).with_variant(sa.String(length=32, collation='C'), 'postgresql'), nullable=False),
    sa.Column('national_id_masked', sa.String(length=18), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('phone', sa.String(length=11), nullable=False),
    sa.Column('home_region', sa.String(length=6), nullable=False),
    sa.Column('insurance_class', sa.String(length=10), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('personal_account_fen', sa.BigInteger(), nullable=False),
    sa.Column('transit_wallet_fen', sa.BigInteger(), nullable=False),
    sa.Column('password_free_limit_fen', sa.BigInteger(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("insurance_class IN ('employee', 'resident')", name=op.f('ck_persons_class_known')),
    sa.CheckConstraint("status IN ('active', 'suspended')", name=op.f('ck_persons_status_known')),
    sa.CheckConstraint('personal_account_fen >= 0 AND password_free_limit_fen >= 0', name=op.f('ck_persons_amounts_sane')),
    sa.ForeignKeyConstraint(['home_region'], ['regions.code'], name=op.f('fk_persons_home_region_regions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_persons')),
    sa.UniqueConstraint('holder_id', name=op.f('uq_persons_holder_id')),
    sa.UniqueConstraint('national_id_hash', name=op.f('uq_persons_national_id_hash'))
    )

    op.create_table('accounts',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('login', sa.String(length=64), nullable=False),
    sa.Column('password_hash', sa.String(length=256), nullable=False),
    sa.Column('role', sa.String(length=10), nullable=False),
    sa.Column('person_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('institution_code', sa.String(length=12), nullable=True),
    sa.Column('region_code', sa.String(length=6), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("role <> 'cashier' OR institution_code IS NOT NULL", name=op.f('ck_accounts_cashier_has_institution')),
    sa.CheckConstraint("role <> 'patient' OR person_id IS NOT NULL", name=op.f('ck_accounts_patient_has_person')),
    sa.CheckConstraint("role IN ('patient', 'cashier', 'auditor', 'admin')", name=op.f('ck_accounts_role_known')),
    sa.ForeignKeyConstraint(['institution_code'], ['institutions.code'], name=op.f('fk_accounts_institution_code_institutions')),
    sa.ForeignKeyConstraint(['person_id'], ['persons.id'], name=op.f('fk_accounts_person_id_persons')),
    sa.ForeignKeyConstraint(['region_code'], ['regions.code'], name=op.f('fk_accounts_region_code_regions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_accounts')),
    sa.UniqueConstraint('login', name=op.f('uq_accounts_login'))
    )
    with op.batch_alter_table('accounts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_accounts_person_id'), ['person_id'], unique=False)

    for statement in APPEND_ONLY.get(op.get_bind().dialect.name, []):
        op.execute(statement)


def downgrade():
    for statement in DROP_APPEND_ONLY.get(op.get_bind().dialect.name, []):
        op.execute(statement)
    with op.batch_alter_table('accounts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_accounts_person_id'))

    op.drop_table('accounts')

    op.drop_table('persons')
    op.drop_table('medical_policies')
    with op.batch_alter_table('institutions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_institutions_region_code'))

    op.drop_table('institutions')
    op.drop_table('bus_line_regions')
    op.drop_table('regions')
    op.drop_table('bus_lines')
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_log_at'))

    op.drop_table('audit_log')
