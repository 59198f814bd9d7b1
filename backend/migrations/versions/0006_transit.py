"""Validators, rides, ride charges, the deny list; audit flags on rides.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-24 13:46:28.011564

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('deny_entries',
    sa.Column('version', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('holder_id', sa.String(length=22).with_variant(sa.String(length=22, collation='C'), 'postgresql'), nullable=False),
    sa.Column('action', sa.String(length=4), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("action IN ('add', 'lift')", name=op.f('ck_deny_entries_action_known')),
    sa.PrimaryKeyConstraint('version', name=op.f('pk_deny_entries')),
    sqlite_autoincrement=True
    )
    with op.batch_alter_table('deny_entries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_deny_entries_holder_id'), ['holder_id'], unique=False)

    op.create_table('validators',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('line_code', sa.String(length=16), nullable=False),
    sa.Column('label', sa.String(length=60), nullable=False),
    sa.Column('enrol_hash', sa.String(length=64).with_variant(sa.String(length=64, collation='C'), 'postgresql'), nullable=False),
    sa.Column('enrol_expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('public_jwk', sa.Text(), nullable=True),
    sa.Column('token_hash', sa.String(length=64).with_variant(sa.String(length=64, collation='C'), 'postgresql'), nullable=True),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('enrolled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('disabled_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status IN ('pending', 'active', 'disabled')", name=op.f('ck_validators_status_known')),
    sa.ForeignKeyConstraint(['line_code'], ['bus_lines.code'], name=op.f('fk_validators_line_code_bus_lines')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_validators')),
    sa.UniqueConstraint('enrol_hash', name=op.f('uq_validators_enrol_hash')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_validators_token_hash'))
    )
    with op.batch_alter_table('validators', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_validators_line_code'), ['line_code'], unique=False)

    op.create_table('rides',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('natural_id', sa.String(length=40).with_variant(sa.String(length=40, collation='C'), 'postgresql'), nullable=False),
    sa.Column('validator_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('line_code', sa.String(length=16), nullable=False),
    sa.Column('person_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('credential_jti', sa.String(length=11).with_variant(sa.String(length=11, collation='C'), 'postgresql'), nullable=False),
    sa.Column('code_step', sa.Integer(), nullable=False),
    sa.Column('ridden_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('day', sa.String(length=10), nullable=False),
    sa.Column('fare_fen', sa.BigInteger(), nullable=False),
    sa.Column('outcome', sa.String(length=8), nullable=False),
    sa.Column('uploaded_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("outcome IN ('charged', 'capped', 'arrears', 'copy')", name=op.f('ck_rides_outcome_known')),
    sa.CheckConstraint('fare_fen >= 0', name=op.f('ck_rides_fare_not_negative')),
    sa.ForeignKeyConstraint(['line_code'], ['bus_lines.code'], name=op.f('fk_rides_line_code_bus_lines')),
    sa.ForeignKeyConstraint(['person_id'], ['persons.id'], name=op.f('fk_rides_person_id_persons')),
    sa.ForeignKeyConstraint(['validator_id'], ['validators.id'], name=op.f('fk_rides_validator_id_validators')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rides')),
    sa.UniqueConstraint('natural_id', name=op.f('uq_rides_natural_id'))
    )
    with op.batch_alter_table('rides', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rides_ridden_at'), ['ridden_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_rides_validator_id'), ['validator_id'], unique=False)

    op.create_table('ride_charges',
    sa.Column('credential_jti', sa.String(length=11).with_variant(sa.String(length=11, collation='C'), 'postgresql'), nullable=False),
    sa.Column('code_step', sa.Integer(), nullable=False),
    sa.Column('ride_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.ForeignKeyConstraint(['ride_id'], ['rides.id'], name=op.f('fk_ride_charges_ride_id_rides')),
    sa.PrimaryKeyConstraint('credential_jti', 'code_step', name=op.f('pk_ride_charges'))
    )
    with op.batch_alter_table('audit_flags', schema=None) as batch_op:
        batch_op.add_column(sa.Column('ride_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True))
        batch_op.alter_column('settlement_id',
               existing_type=sa.INTEGER(),
               nullable=True)
        batch_op.create_index(batch_op.f('ix_audit_flags_ride_id'), ['ride_id'], unique=False)
        batch_op.create_unique_constraint(batch_op.f('uq_audit_flags_ride_id_rule'), ['ride_id', 'rule'])
        batch_op.create_foreign_key(batch_op.f('fk_audit_flags_ride_id_rides'), 'rides', ['ride_id'], ['id'])



def downgrade():
    with op.batch_alter_table('audit_flags', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_audit_flags_ride_id_rides'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('uq_audit_flags_ride_id_rule'), type_='unique')
        batch_op.drop_index(batch_op.f('ix_audit_flags_ride_id'))
        batch_op.alter_column('settlement_id',
               existing_type=sa.INTEGER(),
               nullable=False)
        batch_op.drop_column('ride_id')

    op.drop_table('ride_charges')
    with op.batch_alter_table('rides', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rides_validator_id'))
        batch_op.drop_index(batch_op.f('ix_rides_ridden_at'))

    op.drop_table('rides')
    with op.batch_alter_table('validators', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_validators_line_code'))

    op.drop_table('validators')
    with op.batch_alter_table('deny_entries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_deny_entries_holder_id'))

    op.drop_table('deny_entries')
