"""The transit wallet's ledger: every change to a balance is one row, written with the balance in
the same transaction. A client's Idempotency-Key makes a retried top-up land once."""
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, BigId, Fen, Timestamp, utcnow


class WalletEntry(Base):
    __tablename__ = "wallet_entries"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), index=True)
    kind: Mapped[str] = mapped_column(String(10))  # topup | ride | adjust
    amount_fen: Mapped[int] = mapped_column(Fen)  # + credit, - debit
    balance_after_fen: Mapped[int] = mapped_column(Fen)
    idempotency_key: Mapped[str] = mapped_column(String(80))
    provider_ref: Mapped[str | None] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)

    __table_args__ = (
        UniqueConstraint("person_id", "idempotency_key"),
        CheckConstraint("kind IN ('topup', 'ride', 'adjust')", name="kind_known"),
        CheckConstraint("amount_fen <> 0", name="amount_nonzero"),
    )


class PaymentClaim(Base):
    """A top-up's Idempotency-Key, claimed (and committed) before the payment provider is called, so
    concurrent retries never reach the provider twice. ``claimed`` until the ledger row is written
    (``paid``); a claim left ``claimed`` by a crash is taken over after its lease, and the provider
    is asked again with the same key (a provider deduplicates by it)."""

    __tablename__ = "payment_claims"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"))
    idempotency_key: Mapped[str] = mapped_column(String(80))
    request_hash: Mapped[str] = mapped_column(String(64))
    amount_fen: Mapped[int] = mapped_column(Fen)
    state: Mapped[str] = mapped_column(String(10), default="claimed")  # claimed | paid
    claimed_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)
    entry_id: Mapped[int | None] = mapped_column(ForeignKey("wallet_entries.id"))

    __table_args__ = (
        UniqueConstraint("person_id", "idempotency_key"),
        CheckConstraint("state IN ('claimed', 'paid')", name="state_known"),
        CheckConstraint("amount_fen > 0", name="amount_positive"),
    )
