"""Signed insurance certificates (参保凭证, docs/certificate.md): what was issued, to whom, by whom."""
from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, OpaqueId, Timestamp, utcnow
from .people import Account, Person

ISSUED_VIA = ("self", "counter")


class Certificate(Base):
    """One certificate. ``text`` is the QR's text (it names the holder, like the PDF): the PDF is
    rendered from it again when asked. A revoked certificate is also on the revocation list
    (``revocations``, by its ``jti``) until it expires."""

    __tablename__ = "certificates"
    jti: Mapped[str] = mapped_column(OpaqueId(11), primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), index=True)
    issued_by_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    issued_via: Mapped[str] = mapped_column(String(8))
    kid: Mapped[str] = mapped_column(String(8))
    region_code: Mapped[str] = mapped_column(ForeignKey("regions.code"))
    period_from: Mapped[date] = mapped_column(Date)
    period_to: Mapped[date] = mapped_column(Date)
    text: Mapped[str] = mapped_column(Text)
    issued_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(Timestamp)
    revoked_at: Mapped[datetime | None] = mapped_column(Timestamp)
    revoke_reason: Mapped[str | None] = mapped_column(String(30))

    person: Mapped[Person] = relationship()
    issued_by: Mapped[Account] = relationship()

    __table_args__ = (
        CheckConstraint("issued_via IN ('self', 'counter')", name="via_known"),
        CheckConstraint("period_from <= period_to", name="period_ordered"),
    )
