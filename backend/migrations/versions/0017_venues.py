"""Venue verifiers and their visits (issue 19).

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-29 05:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def _id():
    return sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def _opaque(length):
    return sa.String(length=length).with_variant(sa.String(length=length, collation='C'), 'postgresql')


def upgrade():
    op.create_table('venues',
    sa.Column('id', _id(), nullable=False),
    sa.Column('name_zh', sa.String(length=60), nullable=False),
    sa.Column('name_en', sa.String(length=80), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('region_code', sa.String(length=6), nullable=False),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind IN ('museum', 'library', 'scenic')", name=op.f('ck_venues_kind_known')),
    sa.ForeignKeyConstraint(['region_code'], ['regions.code'], name=op.f('fk_venues_region_code_regions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_venues'))
    )
    with op.batch_alter_table('venues', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_venues_region_code'), ['region_code'], unique=False)

    op.create_table('venue_verifiers',
    sa.Column('id', _id(), nullable=False),
    sa.Column('venue_id', _id(), nullable=False),
    sa.Column('label', sa.String(length=60), nullable=False),
    sa.Column('enrol_hash', _opaque(64), nullable=False),
    sa.Column('enrol_expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('public_jwk', sa.Text(), nullable=True),
    sa.Column('token_hash', _opaque(64), nullable=True),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('enrolled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('disabled_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status IN ('pending', 'active', 'disabled')", name=op.f('ck_venue_verifiers_status_known')),
    sa.ForeignKeyConstraint(['venue_id'], ['venues.id'], name=op.f('fk_venue_verifiers_venue_id_venues')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_venue_verifiers')),
    sa.UniqueConstraint('enrol_hash', name=op.f('uq_venue_verifiers_enrol_hash')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_venue_verifiers_token_hash'))
    )
    with op.batch_alter_table('venue_verifiers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_venue_verifiers_venue_id'), ['venue_id'], unique=False)

    op.create_table('visits',
    sa.Column('id', _id(), nullable=False),
    sa.Column('natural_id', _opaque(48), nullable=False),
    sa.Column('verifier_id', _id(), nullable=False),
    sa.Column('venue_id', _id(), nullable=False),
    sa.Column('credential_jti', _opaque(11), nullable=False),
    sa.Column('code_step', sa.Integer(), nullable=False),
    sa.Column('visited_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('day', sa.String(length=10), nullable=False),
    sa.Column('outcome', sa.String(length=8), nullable=False),
    sa.Column('uploaded_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("outcome IN ('admitted', 'copy', 'revoked')", name=op.f('ck_visits_outcome_known')),
    sa.ForeignKeyConstraint(['venue_id'], ['venues.id'], name=op.f('fk_visits_venue_id_venues')),
    sa.ForeignKeyConstraint(['verifier_id'], ['venue_verifiers.id'], name=op.f('fk_visits_verifier_id_venue_verifiers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_visits')),
    sa.UniqueConstraint('natural_id', name=op.f('uq_visits_natural_id'))
    )
    with op.batch_alter_table('visits', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_visits_day'), ['day'], unique=False)
        batch_op.create_index(batch_op.f('ix_visits_venue_id'), ['venue_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_visits_verifier_id'), ['verifier_id'], unique=False)


def downgrade():
    op.drop_table('visits')
    op.drop_table('venue_verifiers')
    op.drop_table('venues')
