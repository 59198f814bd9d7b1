"""The national interface's message log and visits (issue 18).

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-29 05:00:00.000000

"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401


# revision identifiers, used by Alembic.
revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


BIG_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def _opaque(length):
    return sa.String(length=length).with_variant(sa.String(length=length, collation='C'),
                                                 'postgresql')


def upgrade():
    op.create_table(
        'national_messages',
        sa.Column('id', BIG_ID, nullable=False),
        sa.Column('institution_code', sa.String(length=12), nullable=False),
        sa.Column('msgid', sa.String(length=40), nullable=False),
        sa.Column('infno', sa.String(length=4), nullable=False),
        sa.Column('request_hash', sa.String(length=64), nullable=False),
        sa.Column('answer', sa.Text(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['institution_code'], ['institutions.code'],
                                name=op.f('fk_national_messages_institution_code_institutions')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_national_messages')),
        sa.UniqueConstraint('institution_code', 'msgid',
                            name=op.f('uq_national_messages_institution_code_msgid')),
    )
    op.create_index(op.f('ix_national_messages_created_at'), 'national_messages', ['created_at'])
    op.create_table(
        'national_visits',
        sa.Column('id', BIG_ID, nullable=False),
        sa.Column('institution_code', sa.String(length=12), nullable=False),
        sa.Column('person_id', BIG_ID, nullable=False),
        sa.Column('psn_no', sa.String(length=30), nullable=False),
        sa.Column('code_digest', _opaque(64), nullable=False),
        sa.Column('token_digest', _opaque(64), nullable=False),
        sa.Column('credential_jti', _opaque(11), nullable=False),
        sa.Column('code_step', sa.Integer(), nullable=False),
        sa.Column('mdtrt_id', sa.String(length=30), nullable=True),
        sa.Column('kind', sa.String(length=10), nullable=True),
        sa.Column('med_type', sa.String(length=6), nullable=True),
        sa.Column('insutype', sa.String(length=3), nullable=False),
        sa.Column('ipt_otp_no', sa.String(length=30), nullable=True),
        sa.Column('status', sa.String(length=10), nullable=False),
        sa.Column('settlement_id', BIG_ID, nullable=True),
        sa.Column('reversal_id', BIG_ID, nullable=True),
        sa.Column('stay_ref', sa.String(length=40), nullable=True),
        sa.Column('identified_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('registered_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("status IN ('identified', 'registered', 'cancelled', 'settled', "
                           "'reversed')", name=op.f('ck_national_visits_status_known')),
        sa.ForeignKeyConstraint(['institution_code'], ['institutions.code'],
                                name=op.f('fk_national_visits_institution_code_institutions')),
        sa.ForeignKeyConstraint(['person_id'], ['persons.id'],
                                name=op.f('fk_national_visits_person_id_persons')),
        sa.ForeignKeyConstraint(['settlement_id'], ['settlements.id'],
                                name=op.f('fk_national_visits_settlement_id_settlements')),
        sa.ForeignKeyConstraint(['reversal_id'], ['settlements.id'],
                                name=op.f('fk_national_visits_reversal_id_settlements')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_national_visits')),
        sa.UniqueConstraint('code_digest', name=op.f('uq_national_visits_code_digest')),
        sa.UniqueConstraint('token_digest', name=op.f('uq_national_visits_token_digest')),
        sa.UniqueConstraint('mdtrt_id', name=op.f('uq_national_visits_mdtrt_id')),
        sa.UniqueConstraint('institution_code', 'ipt_otp_no',
                            name=op.f('uq_national_visits_institution_code_ipt_otp_no')),
    )
    op.create_index(op.f('ix_national_visits_institution_code'), 'national_visits',
                    ['institution_code'])
    op.create_index(op.f('ix_national_visits_person_id'), 'national_visits', ['person_id'])
    op.create_table(
        'national_fee_lines',
        sa.Column('id', BIG_ID, nullable=False),
        sa.Column('visit_id', BIG_ID, nullable=False),
        sa.Column('feedetl_sn', sa.String(length=30), nullable=False),
        sa.Column('line_no', sa.Integer(), nullable=True),
        sa.Column('chrg_bchno', sa.String(length=30), nullable=False),
        sa.Column('med_chrgitm_type', sa.String(length=6), nullable=False),
        sa.Column('chrgitm_lv', sa.String(length=3), nullable=False),
        sa.Column('category', sa.String(length=14), nullable=False),
        sa.Column('coverage_class', sa.String(length=1), nullable=False),
        sa.Column('amount_fen', sa.BigInteger(), nullable=False),
        sa.Column('cnt', sa.String(length=24), nullable=False),
        sa.Column('pric', sa.String(length=24), nullable=False),
        sa.Column('med_list_codg', sa.String(length=50), nullable=False),
        sa.Column('medins_list_codg', sa.String(length=150), nullable=False),
        sa.Column('fee_ocur_time', sa.DateTime(timezone=True), nullable=False),
        sa.Column('cancelled', sa.Boolean(), nullable=False),
        sa.CheckConstraint("coverage_class IN ('A', 'B', 'C')",
                           name=op.f('ck_national_fee_lines_class_known')),
        sa.CheckConstraint('amount_fen > 0', name=op.f('ck_national_fee_lines_amount_positive')),
        sa.ForeignKeyConstraint(['visit_id'], ['national_visits.id'],
                                name=op.f('fk_national_fee_lines_visit_id_national_visits')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_national_fee_lines')),
        sa.UniqueConstraint('visit_id', 'feedetl_sn',
                            name=op.f('uq_national_fee_lines_visit_id_feedetl_sn')),
    )
    op.create_index(op.f('ix_national_fee_lines_visit_id'), 'national_fee_lines', ['visit_id'])


def downgrade():
    op.drop_index(op.f('ix_national_fee_lines_visit_id'), table_name='national_fee_lines')
    op.drop_table('national_fee_lines')
    op.drop_index(op.f('ix_national_visits_person_id'), table_name='national_visits')
    op.drop_index(op.f('ix_national_visits_institution_code'), table_name='national_visits')
    op.drop_table('national_visits')
    op.drop_index(op.f('ix_national_messages_created_at'), table_name='national_messages')
    op.drop_table('national_messages')
