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
