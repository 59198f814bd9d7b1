"""The declarative base shared by every model. Plain SQLAlchemy: the domain never imports Flask."""
from datetime import datetime, timedelta, timezone

from sqlalchemy import BigInteger, DateTime, Integer, MetaData, String
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator

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



class UtcTimestamp(TypeDecorator):
    """A moment, stored in UTC. PostgreSQL keeps the zone (timestamptz); SQLite keeps only the
    wall-clock digits, so a bound value in another zone (China midnight, say) would be compared as
    if it were UTC. Every value is turned to UTC on the way in, and comes back aware, in UTC."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None and value.tzinfo is not None:
            value = value.astimezone(timezone.utc)
        return value

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value


Timestamp = UtcTimestamp()


def OpaqueId(length):
    """Random or hashed identifiers: compared byte-wise ("C" collation) on PostgreSQL, which keeps
    their unique indexes cheap to build and to search."""
    return String(length).with_variant(String(length, collation="C"), "postgresql")


def utcnow():
    return datetime.now(timezone.utc)


CHINA = timezone(timedelta(hours=8))  # what a person reads, and every "same day", is China time


def china_iso(moment):
    """A moment as a person reads it and the API says it: ISO 8601 in China time, with +08:00."""
    if moment is None:
        return None
    if moment.tzinfo is None:  # SQLite hands timestamps back naive; they are stored in UTC
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(CHINA).isoformat(timespec="seconds")


def at(unix_seconds):
    """The moment of a unix time, in UTC: the domain takes time as unix seconds (a parameter)."""
    return datetime.fromtimestamp(unix_seconds, timezone.utc)


def unix(moment):
    if moment.tzinfo is None:  # SQLite hands timestamps back naive; they are stored in UTC
        moment = moment.replace(tzinfo=timezone.utc)
    return int(moment.timestamp())


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
