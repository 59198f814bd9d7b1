"""What a bus validator and a venue gate's kiosk have in common: enrolled with a one-time code
(backend/transit/enrolment.py), then signed in with a bearer token of which only a hash is kept,
and looked up by Flask-Login as a user object of their own role."""
from datetime import datetime

from sqlalchemy import CheckConstraint, String, Text
from sqlalchemy.orm import Mapped, declared_attr, mapped_column

from .base import OpaqueId, Timestamp, utcnow


class EnrolledTerminal:
    """Mixin: the enrolment and token columns and the Flask-Login user protocol. A subclass sets
    ``role`` (also the prefix of its login, ``validator:12``)."""

    role = "terminal"
    label: Mapped[str] = mapped_column(String(60), default="")
    enrol_hash: Mapped[str] = mapped_column(OpaqueId(64), unique=True)
    enrol_expires_at: Mapped[datetime] = mapped_column(Timestamp)
    public_jwk: Mapped[str | None] = mapped_column(Text)
    token_hash: Mapped[str | None] = mapped_column(OpaqueId(64), unique=True)
    status: Mapped[str] = mapped_column(String(10), default="pending")
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)
    enrolled_at: Mapped[datetime | None] = mapped_column(Timestamp)
    disabled_at: Mapped[datetime | None] = mapped_column(Timestamp)

    @declared_attr.directive
    def __table_args__(cls):
        return (CheckConstraint("status IN ('pending', 'active', 'disabled')", name="status_known"),)

    # What Flask-Login asks of a user object: a terminal authenticates with its bearer token.
    is_authenticated = True
    is_anonymous = False
    institution = None
    institution_code = None
    region_code = None

    @property
    def is_active(self):
        return self.status == "active"

    @property
    def login(self):
        return f"{self.role}:{self.id}"

    def get_id(self):
        return f"{self.role}:{self.id}"
