"""The declarative base shared by every model. Plain SQLAlchemy: the domain never imports Flask."""
from datetime import datetime, timezone

from sqlalchemy import BigInteger, DateTime, Integer, MetaData, String
from sqlalchemy.orm import DeclarativeBase

# Stable constraint names, so Alembic can alter them on SQLite (batch mode) and PostgreSQL alike.
NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# A 64-bit id that still autoincrements on SQLite (where only INTEGER PRIMARY KEY does).
BigId = BigInteger().with_variant(Integer, "sqlite")

# Money: integer fen, 64-bit.
Fen = BigInteger

Timestamp = DateTime(timezone=True)


def OpaqueId(length):
    """Random or hashed identifiers: compared byte-wise ("C" collation) on PostgreSQL, which keeps
    their unique indexes cheap to build and to search."""
    return String(length).with_variant(String(length, collation="C"), "postgresql")


def utcnow():
    return datetime.now(timezone.utc)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
