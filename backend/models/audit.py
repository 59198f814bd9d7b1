"""The append-only audit log. Triggers (see the migration) refuse UPDATE and DELETE on it."""
from datetime import datetime

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, BigId, Timestamp, utcnow


class AuditEntry(Base):
    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(64))  # a login, or "cli:<command>"
    action: Mapped[str] = mapped_column(String(40))
    target_type: Mapped[str] = mapped_column(String(30))
    target_id: Mapped[str] = mapped_column(String(64))
    detail: Mapped[str] = mapped_column(Text, default="{}")  # JSON; never personal data
    request_id: Mapped[str | None] = mapped_column(String(64))
    # The region the change concerns, so a region's admin reads its own; None: the whole zone.
    region_code: Mapped[str | None] = mapped_column(String(6), index=True)
