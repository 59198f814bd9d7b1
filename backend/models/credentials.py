"""Phones (device keys), the credentials issued to them, and the versioned revocation list."""
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, BigId, OpaqueId, Timestamp, utcnow
from .people import Account, Person

HOLDER_ROLES = ("self", "family")
KINDS = ("med", "ss")


class Device(Base):
    """A phone's public key, activated by an account to show a person's codes: its own person
    (``self``) or, with a grant, a relative's (``family``). At most one active ``self`` phone."""

    __tablename__ = "devices"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    holder_role: Mapped[str] = mapped_column(String(6), default="self")
    alg: Mapped[str] = mapped_column(String(8))  # Ed25519 | P-256
    public_jwk: Mapped[str] = mapped_column(Text)  # canonical JSON of docs/token-format.md §2
    label: Mapped[str] = mapped_column(String(60), default="")
    grant_id: Mapped[int | None] = mapped_column(ForeignKey("family_grants.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(Timestamp)
    revoke_reason: Mapped[str | None] = mapped_column(String(30))

    person: Mapped[Person] = relationship()
    account: Mapped[Account] = relationship()

    __table_args__ = (
        CheckConstraint("holder_role IN ('self', 'family')", name="role_known"),
        CheckConstraint("alg IN ('Ed25519', 'P-256')", name="alg_known"),
    )


class Credential(Base):
    __tablename__ = "credentials"
    jti: Mapped[str] = mapped_column(OpaqueId(11), primary_key=True)
    device_id: Mapped[int] = mapped_column(ForeignKey("devices.id"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), index=True)
    kind: Mapped[str] = mapped_column(String(3))
    kid: Mapped[str] = mapped_column(String(8))
    issued_at: Mapped[datetime] = mapped_column(Timestamp)
    expires_at: Mapped[datetime] = mapped_column(Timestamp, index=True)
    revoked_at: Mapped[datetime | None] = mapped_column(Timestamp)

    device: Mapped[Device] = relationship()

    __table_args__ = (CheckConstraint("kind IN ('med', 'ss')", name="kind_known"),)


class Revocation(Base):
    """One revoked credential. ``version`` only grows: a validator asks for ``since=N``."""

    __tablename__ = "revocations"
    version: Mapped[int] = mapped_column(BigId, primary_key=True)
    # A credential's jti or a certificate's (migration 0016): no foreign key to either table.
    jti: Mapped[str] = mapped_column(OpaqueId(11), unique=True)
    reason: Mapped[str] = mapped_column(String(30))
    revoked_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(Timestamp)  # after this it need not be listed

    __table_args__ = ({"sqlite_autoincrement": True},)
