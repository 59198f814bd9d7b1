"""Hospital settlements and refunds, and each person's yearly benefit counters."""
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Integer, SmallInteger, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, BigId, Fen, OpaqueId, Timestamp, utcnow


class Settlement(Base):
    """One settlement, or the refund that reverses one (negative amounts, ``reverses_id`` set).
    Nothing is ever updated or deleted: a refund is a new row."""

    __tablename__ = "settlements"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))  # settlement | refund
    institution_code: Mapped[str] = mapped_column(ForeignKey("institutions.code"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), index=True)
    insured_region: Mapped[str] = mapped_column(ForeignKey("regions.code"))
    treating_region: Mapped[str] = mapped_column(ForeignKey("regions.code"))
    cashier_account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    # The code that paid: a code settles once (NULL on refunds, so they do not collide).
    credential_jti: Mapped[str | None] = mapped_column(OpaqueId(11))
    code_step: Mapped[int | None] = mapped_column(Integer)
    idempotency_key: Mapped[str] = mapped_column(String(80))
    reverses_id: Mapped[int | None] = mapped_column(ForeignKey("settlements.id"), unique=True)
    year: Mapped[int] = mapped_column(SmallInteger)
    total_fen: Mapped[int] = mapped_column(Fen)
    fund_fen: Mapped[int] = mapped_column(Fen)
    personal_account_fen: Mapped[int] = mapped_column(Fen)
    cash_fen: Mapped[int] = mapped_column(Fen)
    deductible_fen: Mapped[int] = mapped_column(Fen)
    class_b_self_fen: Mapped[int] = mapped_column(Fen)
    class_c_fen: Mapped[int] = mapped_column(Fen)
    coinsurance_fen: Mapped[int] = mapped_column(Fen)
    reason: Mapped[str | None] = mapped_column(String(200))
    # sha256 of the canonical request the Idempotency-Key came with: the same key with another bill,
    # scan or refund is refused (idempotency_key_reused), not answered with the first result.
    request_hash: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow, index=True)

    lines: Mapped[list["SettlementLine"]] = relationship(back_populates="settlement",
                                                         order_by="SettlementLine.id")

    __table_args__ = (
        UniqueConstraint("credential_jti", "code_step"),
        UniqueConstraint("institution_code", "idempotency_key"),
        CheckConstraint("kind IN ('settlement', 'refund')", name="kind_known"),
        CheckConstraint("fund_fen + personal_account_fen + cash_fen = total_fen", name="parts_add_up"),
    )


class SettlementLine(Base):
    __tablename__ = "settlement_lines"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    settlement_id: Mapped[int] = mapped_column(ForeignKey("settlements.id"), index=True)
    category: Mapped[str] = mapped_column(String(14))
    coverage_class: Mapped[str] = mapped_column(String(1))
    description: Mapped[str] = mapped_column(String(80), default="")
    amount_fen: Mapped[int] = mapped_column(Fen)

    settlement: Mapped[Settlement] = relationship(back_populates="lines")

    __table_args__ = (
        CheckConstraint("coverage_class IN ('A', 'B', 'C')", name="class_known"),
        CheckConstraint("category IN ('registration', 'drug', 'examination', 'treatment', "
                        "'material')", name="category_known"),
    )


class BenefitCounter(Base):
    """How much of the deductible and of the fund's cap a person has used in a year."""

    __tablename__ = "benefit_counters"
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), primary_key=True)
    year: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    deductible_used_fen: Mapped[int] = mapped_column(Fen, default=0)
    fund_paid_fen: Mapped[int] = mapped_column(Fen, default=0)
