"""Signed insurance certificates (issue 19): the certificates table, a person's insured-since
date, and a revocation list that also lists certificates (its jti no longer points only at
credentials).

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-29 05:00:00.000000

"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401


# revision identifiers, used by Alembic.
revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('certificates',
    sa.Column('jti', sa.String(length=11).with_variant(sa.String(length=11, collation='C'), 'postgresql'), nullable=False),
    sa.Column('person_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('issued_by_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('issued_via', sa.String(length=8), nullable=False),
    sa.Column('kid', sa.String(length=8), nullable=False),
    sa.Column('region_code', sa.String(length=6), nullable=False),
    sa.Column('period_from', sa.Date(), nullable=False),
    sa.Column('period_to', sa.Date(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('issued_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoke_reason', sa.String(length=30), nullable=True),
    sa.CheckConstraint("issued_via IN ('self', 'counter')", name=op.f('ck_certificates_via_known')),
    sa.CheckConstraint('period_from <= period_to', name=op.f('ck_certificates_period_ordered')),
    sa.ForeignKeyConstraint(['issued_by_id'], ['accounts.id'], name=op.f('fk_certificates_issued_by_id_accounts')),
    sa.ForeignKeyConstraint(['person_id'], ['persons.id'], name=op.f('fk_certificates_person_id_persons')),
    sa.ForeignKeyConstraint(['region_code'], ['regions.code'], name=op.f('fk_certificates_region_code_regions')),
    sa.PrimaryKeyConstraint('jti', name=op.f('pk_certificates'))
    )
    with op.batch_alter_table('certificates', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_certificates_person_id'), ['person_id'], unique=False)
    with op.batch_alter_table('persons', schema=None) as batch_op:
        batch_op.add_column(sa.Column('insured_since', sa.Date(), nullable=True))
    with op.batch_alter_table('revocations', schema=None) as batch_op:
        batch_op.drop_constraint('fk_revocations_jti_credentials', type_='foreignkey')


def downgrade():
    op.execute("DELETE FROM revocations WHERE jti IN (SELECT jti FROM certificates)")
    with op.batch_alter_table('revocations', schema=None) as batch_op:
        batch_op.create_foreign_key('fk_revocations_jti_credentials', 'credentials', ['jti'], ['jti'])
    with op.batch_alter_table('persons', schema=None) as batch_op:
        batch_op.drop_column('insured_since')
    with op.batch_alter_table('certificates', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_certificates_person_id'))
    op.drop_table('certificates')
