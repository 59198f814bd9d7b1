"""Hot-path tables and indexes (issue 21), part 20: a version of the registry's regions and
medical policies, changed by the database itself on every write to them, so that each worker may
keep them in memory and check in one value that they are still current
(backend/counter/registry_cache.py).

Revision ID: 0020
Revises: 0019
Create Date: 2026-11-29 08:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None

TABLES = ("regions", "medical_policies")
# A new random value on every change (compared for equality only): no count to wrap or to start
# again at the same number after the row was deleted.
PG_FUNCTION = """
CREATE FUNCTION bump_registry_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO cache_versions (name, version)
  VALUES ('registry', (random() * 9e18)::bigint)
  ON CONFLICT (name) DO UPDATE SET version = EXCLUDED.version;
  RETURN NULL;
END $$
"""
SQLITE_BODY = """
BEGIN
  INSERT INTO cache_versions (name, version) VALUES ('registry', random())
  ON CONFLICT (name) DO UPDATE SET version = excluded.version;
END"""


def upgrade():
    op.create_table(
        "cache_versions",
        sa.Column("name", sa.String(length=40), primary_key=True),
        sa.Column("version", sa.BigInteger(), nullable=False),
    )
    postgres = op.get_bind().dialect.name == "postgresql"
    if postgres:
        op.execute(PG_FUNCTION)
    for table in TABLES:
        if postgres:
            op.execute(f"CREATE TRIGGER {table}_registry_version AFTER INSERT OR UPDATE OR DELETE "
                       f"OR TRUNCATE ON {table} FOR EACH STATEMENT "
                       "EXECUTE FUNCTION bump_registry_version()")
        else:
            for event in ("INSERT", "UPDATE", "DELETE"):
                op.execute(f"CREATE TRIGGER {table}_registry_version_{event.lower()} AFTER {event} "
                           f"ON {table} FOR EACH ROW{SQLITE_BODY}")
    op.execute("INSERT INTO cache_versions (name, version) VALUES ('registry', 1)")


def downgrade():
    postgres = op.get_bind().dialect.name == "postgresql"
    for table in TABLES:
        if postgres:
            op.execute(f"DROP TRIGGER {table}_registry_version ON {table}")
        else:
            for event in ("insert", "update", "delete"):
                op.execute(f"DROP TRIGGER {table}_registry_version_{event}")
    if postgres:
        op.execute("DROP FUNCTION bump_registry_version()")
    op.drop_table("cache_versions")
