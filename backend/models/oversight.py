"""Hospital-system API keys, and joint-audit flags on settlements."""
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, BigId, OpaqueId, Timestamp, utcnow
from .people import Account


class ApiKey(Base):
    """A hospital information system's key. It acts through its own service account (a cashier
    of the institution), so every settlement names who made it. Only a hash is kept."""

    __tablename__ = "api_keys"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    prefix: Mapped[str] = mapped_column(OpaqueId(12), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(64))
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    institution_code: Mapped[str] = mapped_column(ForeignKey("institutions.code"), index=True)
    label: Mapped[str] = mapped_column(String(60), default="")
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(Timestamp)

    account: Mapped[Account] = relationship()


class AuditFlag(Base):
    __tablename__ = "audit_flags"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    settlement_id: Mapped[int | None] = mapped_column(ForeignKey("settlements.id"), index=True)
    ride_id: Mapped[int | None] = mapped_column(ForeignKey("rides.id"), index=True)
    rule: Mapped[str] = mapped_column(String(30))
    insured_region: Mapped[str] = mapped_column(ForeignKey("regions.code"), index=True)
    treating_region: Mapped[str] = mapped_column(ForeignKey("regions.code"), index=True)
    detail: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[str] = mapped_column(String(10), default="open")
    note: Mapped[str | None] = mapped_column(String(500))
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decided_at: Mapped[datetime | None] = mapped_column(Timestamp)
    created_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)

    __table_args__ = (
        UniqueConstraint("settlement_id", "rule"),
        UniqueConstraint("ride_id", "rule"),
        CheckConstraint("status IN ('open', 'confirmed', 'dismissed')", name="status_known"),
    )


class AuditFlagNote(Base):
    """The history of a flag: each auditor's note, and the decision (with its note), oldest first.
    Rows are only ever added."""

    __tablename__ = "audit_flag_notes"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    flag_id: Mapped[int] = mapped_column(ForeignKey("audit_flags.id"), index=True)
    at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)
    author: Mapped[str] = mapped_column(String(64))  # the auditor's login
    kind: Mapped[str] = mapped_column(String(10))  # note | confirm | dismiss
    text: Mapped[str] = mapped_column(String(500))

    __table_args__ = (
        CheckConstraint("kind IN ('note', 'confirm', 'dismiss')", name="kind_known"),
    )
