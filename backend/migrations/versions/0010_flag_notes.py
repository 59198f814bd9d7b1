"""The history of a joint-audit flag: auditors' notes and the decision, one row each (the flag
keeps its status, note and decider as before). Flags decided before this migration get their
decision as the first row of their history.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-29 10:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('audit_flag_notes',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('flag_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('author', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('text', sa.String(length=500), nullable=False),
    sa.CheckConstraint("kind IN ('note', 'confirm', 'dismiss')", name=op.f('ck_audit_flag_notes_kind_known')),
    sa.ForeignKeyConstraint(['flag_id'], ['audit_flags.id'], name=op.f('fk_audit_flag_notes_flag_id_audit_flags')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_flag_notes'))
    )
    with op.batch_alter_table('audit_flag_notes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_flag_notes_flag_id'), ['flag_id'], unique=False)
    op.execute("""
        INSERT INTO audit_flag_notes (flag_id, at, author, kind, text)
        SELECT id, COALESCE(decided_at, created_at), COALESCE(decided_by, ''),
               CASE status WHEN 'confirmed' THEN 'confirm' ELSE 'dismiss' END, COALESCE(note, '')
        FROM audit_flags WHERE status <> 'open'
    """)


def downgrade():
    with op.batch_alter_table('audit_flag_notes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_flag_notes_flag_id'))
    op.drop_table('audit_flag_notes')
