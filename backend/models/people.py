"""Insured persons (the registry) and login accounts."""
from datetime import date, datetime

from sqlalchemy import Boolean, CheckConstraint, Date, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, BigId, Fen, OpaqueId, Timestamp, utcnow
from .registry import Institution, Region

PERSON_STATUSES = ("active", "suspended")
ROLES = ("patient", "cashier", "auditor", "admin")


def mask_name(name):
    """张三 -> 张*, 欧阳娜娜 -> 欧阳**: what a cashier may see."""
    keep = 2 if len(name) >= 4 else 1
    return name[:keep] + "*" * max(1, len(name) - keep)


class Person(Base):
    """One insured person. The national ID is kept only as a keyed hash and a masked form."""

    __tablename__ = "persons"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    holder_id: Mapped[str] = mapped_column(OpaqueId(22), unique=True)  # random pseudonym for codes
    national_id_hash: Mapped[str] = mapped_column(OpaqueId(32), unique=True)
    national_id_masked: Mapped[str] = mapped_column(String(18))
    name: Mapped[str] = mapped_column(String(64))
    phone: Mapped[str] = mapped_column(String(11))
    home_region: Mapped[str] = mapped_column(ForeignKey("regions.code"))
    insurance_class: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(10), default="active")
    # When the person's insurance began, where the registry knows it (certificates state it;
    # migration 0016). Unknown: the day the person entered this registry stands in.
    insured_since: Mapped[date | None] = mapped_column(Date)
    personal_account_fen: Mapped[int] = mapped_column(Fen, default=0)
    transit_wallet_fen: Mapped[int] = mapped_column(Fen, default=0)
    password_free_limit_fen: Mapped[int] = mapped_column(Fen, default=0)
    created_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow, onupdate=utcnow)

    region: Mapped[Region] = relationship()

    __table_args__ = (
        CheckConstraint("insurance_class IN ('employee', 'resident')", name="class_known"),
        CheckConstraint("status IN ('active', 'suspended')", name="status_known"),
        CheckConstraint(
            "personal_account_fen >= 0 AND password_free_limit_fen >= 0", name="amounts_sane"
        ),
    )

    def masked_name(self):
        return mask_name(self.name)


class Account(Base):
    __tablename__ = "accounts"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    login: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    role: Mapped[str] = mapped_column(String(10))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id"), index=True)
    institution_code: Mapped[str | None] = mapped_column(ForeignKey("institutions.code"))
    region_code: Mapped[str | None] = mapped_column(ForeignKey("regions.code"))  # None = whole zone
    display_name: Mapped[str | None] = mapped_column(String(40))  # staff: the name people read
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)

    person: Mapped[Person | None] = relationship()
    institution: Mapped[Institution | None] = relationship()

    # What Flask-Login asks of a user object (kept here without importing it).
    is_authenticated = True
    is_anonymous = False

    @property
    def is_active(self):
        return self.active

    def get_id(self):
        return str(self.id)

    __table_args__ = (
        CheckConstraint("role IN ('patient', 'cashier', 'auditor', 'admin')", name="role_known"),
        CheckConstraint("role <> 'patient' OR person_id IS NOT NULL", name="patient_has_person"),
        CheckConstraint(
            "role <> 'cashier' OR institution_code IS NOT NULL", name="cashier_has_institution"
        ),
    )
