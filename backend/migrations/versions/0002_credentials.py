"""Devices, credentials and the versioned revocation list.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24 12:44:19.217331

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('devices',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('person_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('account_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('holder_role', sa.String(length=6), nullable=False),
    sa.Column('alg', sa.String(length=8), nullable=False),
    sa.Column('public_jwk', sa.Text(), nullable=False),
    sa.Column('label', sa.String(length=60), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoke_reason', sa.String(length=30), nullable=True),
    sa.CheckConstraint("alg IN ('Ed25519', 'P-256')", name=op.f('ck_devices_alg_known')),
    sa.CheckConstraint("holder_role IN ('self', 'family')", name=op.f('ck_devices_role_known')),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_devices_account_id_accounts')),
    sa.ForeignKeyConstraint(['person_id'], ['persons.id'], name=op.f('fk_devices_person_id_persons')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_devices'))
    )
    with op.batch_alter_table('devices', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_devices_account_id'), ['account_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_devices_person_id'), ['person_id'], unique=False)

    op.create_table('credentials',
    sa.Column('jti', sa.String(length=11).with_variant(sa.String(length=11, collation='C'), 'postgresql'), nullable=False),
    sa.Column('device_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('person_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('kind', sa.String(length=3), nullable=False),
    sa.Column('kid', sa.String(length=8), nullable=False),
    sa.Column('issued_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("kind IN ('med', 'ss')", name=op.f('ck_credentials_kind_known')),
    sa.ForeignKeyConstraint(['device_id'], ['devices.id'], name=op.f('fk_credentials_device_id_devices')),
    sa.ForeignKeyConstraint(['person_id'], ['persons.id'], name=op.f('fk_credentials_person_id_persons')),
    sa.PrimaryKeyConstraint('jti', name=op.f('pk_credentials'))
    )
    with op.batch_alter_table('credentials', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_credentials_device_id'), ['device_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_credentials_expires_at'), ['expires_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_credentials_person_id'), ['person_id'], unique=False)

    op.create_table('revocations',
    sa.Column('version', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('jti', sa.String(length=11).with_variant(sa.String(length=11, collation='C'), 'postgresql'), nullable=False),
    sa.Column('reason', sa.String(length=30), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['jti'], ['credentials.jti'], name=op.f('fk_revocations_jti_credentials')),
    sa.PrimaryKeyConstraint('version', name=op.f('pk_revocations')),
    sa.UniqueConstraint('jti', name=op.f('uq_revocations_jti')),
    sqlite_autoincrement=True
    )


def downgrade():
    op.drop_table('revocations')
    with op.batch_alter_table('credentials', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_credentials_person_id'))
        batch_op.drop_index(batch_op.f('ix_credentials_expires_at'))
        batch_op.drop_index(batch_op.f('ix_credentials_device_id'))

    op.drop_table('credentials')
    with op.batch_alter_table('devices', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_devices_person_id'))
        batch_op.drop_index(batch_op.f('ix_devices_account_id'))

    op.drop_table('devices')
