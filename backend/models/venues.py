"""Culture venues, libraries and scenic spots; the verifiers at their gates; the visits they report
(issue 19). A visit carries no person id and no name: the code's credential id and time step, which
make the upload exactly-once, and nothing else about who came."""
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, BigId, OpaqueId, Timestamp, utcnow
from .terminals import EnrolledTerminal

VENUE_KINDS = ("museum", "library", "scenic")


class Venue(Base):
    __tablename__ = "venues"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name_zh: Mapped[str] = mapped_column(String(60))
    name_en: Mapped[str] = mapped_column(String(80), default="")
    kind: Mapped[str] = mapped_column(String(8))
    region_code: Mapped[str] = mapped_column(ForeignKey("regions.code"), index=True)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)

    __table_args__ = (
        CheckConstraint("kind IN ('museum', 'library', 'scenic')", name="kind_known"),
    )


class VenueVerifier(EnrolledTerminal, Base):
    """A gate's kiosk, enrolled like a bus validator (a one-time code, then a bearer token)."""

    __tablename__ = "venue_verifiers"
    role = "venue"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    venue_id: Mapped[int] = mapped_column(ForeignKey("venues.id"), index=True)

    venue: Mapped[Venue] = relationship()


class Visit(Base):
    """One entry as a gate reported it. ``natural_id`` (credential, step, verifier) makes the upload
    exactly-once; the first report of a (credential, step) anywhere is ``admitted``, a later one at
    another gate a ``copy``; one at or after the credential's revocation ``revoked``."""

    __tablename__ = "visits"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    natural_id: Mapped[str] = mapped_column(OpaqueId(48), unique=True)
    verifier_id: Mapped[int] = mapped_column(ForeignKey("venue_verifiers.id"), index=True)
    venue_id: Mapped[int] = mapped_column(ForeignKey("venues.id"), index=True)
    credential_jti: Mapped[str] = mapped_column(OpaqueId(11))
    code_step: Mapped[int] = mapped_column(Integer)
    visited_at: Mapped[datetime] = mapped_column(Timestamp)
    day: Mapped[str] = mapped_column(String(10), index=True)  # China date, for the counts
    outcome: Mapped[str] = mapped_column(String(8))
    uploaded_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)

    __table_args__ = (
        CheckConstraint("outcome IN ('admitted', 'copy', 'revoked')", name="outcome_known"),
        # A code is admitted once (migration 0021): of two gates storing it at the same moment,
        # the later is refused (409, sent again) and becomes the copy.
        Index("uq_visits_admitted_code", "credential_jti", "code_step", unique=True,
              postgresql_where=text("outcome = 'admitted'"),
              sqlite_where=text("outcome = 'admitted'")),
    )
