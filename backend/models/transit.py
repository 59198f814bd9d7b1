"""Bus validators, the rides they report, and the deny list they sync (arrears past a threshold)."""
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, BigId, Fen, OpaqueId, Timestamp, utcnow
from .registry import BusLine
from .terminals import EnrolledTerminal


class Validator(EnrolledTerminal, Base):
    __tablename__ = "validators"
    role = "validator"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    line_code: Mapped[str] = mapped_column(ForeignKey("bus_lines.code"), index=True)

    line: Mapped[BusLine] = relationship()


class Ride(Base):
    """One ride as a validator reported it. ``natural_id`` (credential, step, validator) makes
    ingest exactly-once; the first report of a (credential, step) pays, later ones are copies."""

    __tablename__ = "rides"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    natural_id: Mapped[str] = mapped_column(OpaqueId(40), unique=True)
    validator_id: Mapped[int] = mapped_column(ForeignKey("validators.id"), index=True)
    line_code: Mapped[str] = mapped_column(ForeignKey("bus_lines.code"))
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"))
    credential_jti: Mapped[str] = mapped_column(OpaqueId(11))
    code_step: Mapped[int] = mapped_column(Integer)
    ridden_at: Mapped[datetime] = mapped_column(Timestamp, index=True)
    day: Mapped[str] = mapped_column(String(10))  # China date, for the daily cap
    fare_fen: Mapped[int] = mapped_column(Fen)
    outcome: Mapped[str] = mapped_column(String(8))  # charged | capped | arrears | copy | revoked
    uploaded_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)

    __table_args__ = (
        CheckConstraint("outcome IN ('charged', 'capped', 'arrears', 'copy', 'revoked')",
                        name="outcome_known"),
        CheckConstraint("fare_fen >= 0", name="fare_not_negative"),
        Index("ix_rides_person_day", "person_id", "day"),  # the daily cap's sum (migration 0018)
    )


class RideCharge(Base):
    """The first ride of a code (credential, step): the database's word that it pays once."""

    __tablename__ = "ride_charges"
    credential_jti: Mapped[str] = mapped_column(OpaqueId(11), primary_key=True)
    code_step: Mapped[int] = mapped_column(Integer, primary_key=True)
    ride_id: Mapped[int] = mapped_column(ForeignKey("rides.id"))


class DenyEntry(Base):
    """The deny list, versioned like the revocation list: ``add`` or ``lift`` for a holder."""

    __tablename__ = "deny_entries"
    version: Mapped[int] = mapped_column(BigId, primary_key=True)
    holder_id: Mapped[str] = mapped_column(OpaqueId(22), index=True)
    action: Mapped[str] = mapped_column(String(4))
    at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)

    __table_args__ = (CheckConstraint("action IN ('add', 'lift')", name="action_known"),
                      {"sqlite_autoincrement": True})
