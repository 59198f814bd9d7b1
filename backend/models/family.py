"""Family grants: a patient lets another account show their codes (亲情账户)."""
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, BigId, OpaqueId, Timestamp, utcnow
from .people import Account, Person


class FamilyGrant(Base):
    __tablename__ = "family_grants"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), index=True)  # whose codes
    grantor_account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    member_account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"), index=True)
    invitation_hash: Mapped[str] = mapped_column(OpaqueId(64), unique=True)
    invitation_expires_at: Mapped[datetime] = mapped_column(Timestamp)
    status: Mapped[str] = mapped_column(String(8), default="pending")
    created_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)
    accepted_at: Mapped[datetime | None] = mapped_column(Timestamp)
    revoked_at: Mapped[datetime | None] = mapped_column(Timestamp)

    person: Mapped[Person] = relationship()
    grantor: Mapped[Account] = relationship(foreign_keys=[grantor_account_id])
    member: Mapped[Account | None] = relationship(foreign_keys=[member_account_id])

    __table_args__ = (
        CheckConstraint("status IN ('pending', 'active', 'revoked')", name="status_known"),
    )
