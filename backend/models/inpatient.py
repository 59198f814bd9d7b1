"""Inpatient care (住院): each region's inpatient policy, stays with their fee lines, the link from
a stay to its discharge settlements (rows of ``settlements``), and the yearly inpatient counters."""
from datetime import date, datetime

from sqlalchemy import (Boolean, CheckConstraint, Date, ForeignKey, Integer, SmallInteger, String,
                        UniqueConstraint)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, BigId, Fen, OpaqueId, Timestamp, utcnow

INPATIENT_CATEGORIES = ("bed", "consultation", "examination", "laboratory", "treatment", "surgery",
                        "nursing", "drug", "material", "other")

_RATIOS = ("ratio_l1_a_bp", "ratio_l2_a_bp", "ratio_l3_a_bp",
           "ratio_l1_b_bp", "ratio_l2_b_bp", "ratio_l3_b_bp",
           "class_b_self_share_bp", "later_admission_deductible_bp")


class InpatientPolicy(Base):
    """A home region's inpatient rules for one insurance class (docs/inpatient.md). Ratios are
    basis points (1/10000)."""

    __tablename__ = "inpatient_policies"
    id: Mapped[int] = mapped_column(primary_key=True)
    region_code: Mapped[str] = mapped_column(ForeignKey("regions.code"))
    insurance_class: Mapped[str] = mapped_column(String(10))
    deductible_mode: Mapped[str] = mapped_column(String(14))  # per_year | per_admission
    deductible_year_fen: Mapped[int] = mapped_column(Fen)
    deductible_l1_fen: Mapped[int] = mapped_column(Fen)
    deductible_l2_fen: Mapped[int] = mapped_column(Fen)
    deductible_l3_fen: Mapped[int] = mapped_column(Fen)
    later_admission_deductible_bp: Mapped[int] = mapped_column(SmallInteger)
    ratio_l1_a_bp: Mapped[int] = mapped_column(SmallInteger)
    ratio_l2_a_bp: Mapped[int] = mapped_column(SmallInteger)
    ratio_l3_a_bp: Mapped[int] = mapped_column(SmallInteger)
    ratio_l1_b_bp: Mapped[int] = mapped_column(SmallInteger)
    ratio_l2_b_bp: Mapped[int] = mapped_column(SmallInteger)
    ratio_l3_b_bp: Mapped[int] = mapped_column(SmallInteger)
    class_b_self_share_bp: Mapped[int] = mapped_column(SmallInteger)
    annual_cap_fen: Mapped[int] = mapped_column(Fen)
    cap_shared_with_outpatient: Mapped[bool] = mapped_column(Boolean)
    has_personal_account: Mapped[bool] = mapped_column(Boolean)
    personal_account_pays_deductible: Mapped[bool] = mapped_column(Boolean)
    personal_account_pays_class_c: Mapped[bool] = mapped_column(Boolean)
    audit_max_stay_days: Mapped[int] = mapped_column(SmallInteger)
    audit_daily_cost_fen: Mapped[int] = mapped_column(Fen)

    __table_args__ = (
        UniqueConstraint("region_code", "insurance_class"),
        CheckConstraint("insurance_class IN ('employee', 'resident')", name="class_known"),
        CheckConstraint("deductible_mode IN ('per_year', 'per_admission')", name="mode_known"),
        CheckConstraint("deductible_year_fen >= 0 AND deductible_l1_fen >= 0 AND "
                        "deductible_l2_fen >= 0 AND deductible_l3_fen >= 0 AND annual_cap_fen > 0 "
                        "AND audit_daily_cost_fen > 0 AND audit_max_stay_days > 0",
                        name="amounts_sane"),
        CheckConstraint(" AND ".join(f"{c} BETWEEN 0 AND 10000" for c in _RATIOS),
                        name="ratios_in_range"),
        {"sqlite_autoincrement": True},
    )

    def ratio_bp(self, level, coverage_class):
        return getattr(self, f"ratio_l{level}_{coverage_class.lower()}_bp")

    def admission_deductible_fen(self, level):
        return getattr(self, f"deductible_l{level}_fen")


class Stay(Base):
    """One admission (入院登记) at an institution, open until its discharge settlement; a
    same-day reversal of that settlement opens it again."""

    __tablename__ = "inpatient_stays"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    institution_code: Mapped[str] = mapped_column(ForeignKey("institutions.code"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), index=True)
    insured_region: Mapped[str] = mapped_column(ForeignKey("regions.code"))
    treating_region: Mapped[str] = mapped_column(ForeignKey("regions.code"))
    admission_no: Mapped[str] = mapped_column(String(30))
    ward: Mapped[str] = mapped_column(String(40))
    diagnosis_code: Mapped[str] = mapped_column(String(10))
    diagnosis_text: Mapped[str] = mapped_column(String(100))
    admitted_on: Mapped[date] = mapped_column(Date, index=True)
    discharged_on: Mapped[date | None] = mapped_column(Date, index=True)
    status: Mapped[str] = mapped_column(String(8), default="open")
    # The settlement in force (None while open); every settlement and reversal stays in
    # inpatient_settlements / settlements.
    settlement_id: Mapped[int | None] = mapped_column(ForeignKey("settlements.id"))
    settled_count: Mapped[int] = mapped_column(SmallInteger, default=0)
    # The scan that admitted (a code admits once); manual: found by national ID number.
    credential_jti: Mapped[str | None] = mapped_column(OpaqueId(11))
    code_step: Mapped[int | None] = mapped_column(Integer)
    manual_reason: Mapped[str | None] = mapped_column(String(120))
    admitted_by: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    request_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow, index=True)

    lines: Mapped[list["FeeLine"]] = relationship(back_populates="stay", order_by="FeeLine.line_no")

    __table_args__ = (
        UniqueConstraint("institution_code", "admission_no"),
        UniqueConstraint("credential_jti", "code_step"),
        CheckConstraint("status IN ('open', 'settled')", name="status_known"),
        CheckConstraint("discharged_on IS NULL OR discharged_on >= admitted_on",
                        name="discharge_after_admission"),
    )


class FeeLine(Base):
    """A fee line (费用明细) of a stay, numbered by the hospital within the stay: a line sent
    again is stored once. Cancelled lines stay, marked."""

    __tablename__ = "inpatient_fee_lines"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    stay_id: Mapped[int] = mapped_column(ForeignKey("inpatient_stays.id"))
    line_no: Mapped[int] = mapped_column(Integer)
    category: Mapped[str] = mapped_column(String(14))
    coverage_class: Mapped[str] = mapped_column(String(1))
    item: Mapped[str] = mapped_column(String(80))
    quantity: Mapped[int] = mapped_column(Integer)
    unit_price_fen: Mapped[int] = mapped_column(Fen)
    amount_fen: Mapped[int] = mapped_column(Fen)
    service_date: Mapped[date] = mapped_column(Date)
    added_by: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    created_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)
    cancelled_at: Mapped[datetime | None] = mapped_column(Timestamp)
    cancelled_by: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    cancel_reason: Mapped[str | None] = mapped_column(String(200))

    stay: Mapped[Stay] = relationship(back_populates="lines")

    __table_args__ = (
        UniqueConstraint("stay_id", "line_no"),
        CheckConstraint("coverage_class IN ('A', 'B', 'C')", name="class_known"),
        CheckConstraint("category IN (" + ", ".join(f"'{c}'" for c in INPATIENT_CATEGORIES) + ")",
                        name="category_known"),
        CheckConstraint("quantity > 0 AND unit_price_fen > 0 AND "
                        "amount_fen = quantity * unit_price_fen", name="amount_is_product"),
    )


class InpatientSettlement(Base):
    """A discharge settlement of a stay: the ``settlements`` row (clearing, the counter's day and
    the audit see it like any settlement) and what only a stay has."""

    __tablename__ = "inpatient_settlements"
    settlement_id: Mapped[int] = mapped_column(ForeignKey("settlements.id"), primary_key=True)
    stay_id: Mapped[int] = mapped_column(ForeignKey("inpatient_stays.id"), index=True)
    attempt: Mapped[int] = mapped_column(SmallInteger)  # 1, then 2 after a reversal, ...
    discharged_on: Mapped[date] = mapped_column(Date)
    days: Mapped[int] = mapped_column(Integer)
    admission_in_year: Mapped[int] = mapped_column(SmallInteger)
    deductible_mode: Mapped[str] = mapped_column(String(14))
    cap_shared_with_outpatient: Mapped[bool] = mapped_column(Boolean)

    __table_args__ = (UniqueConstraint("stay_id", "attempt"),)


class InpatientSettlementLine(Base):
    """Which fee lines a discharge settlement paid (its lines, whatever happens to the stay after a
    reversal)."""

    __tablename__ = "inpatient_settlement_lines"
    settlement_id: Mapped[int] = mapped_column(ForeignKey("settlements.id"), primary_key=True)
    line_id: Mapped[int] = mapped_column(ForeignKey("inpatient_fee_lines.id"), primary_key=True)


class InpatientCounter(Base):
    """A person's inpatient deductible used and inpatient fund paid in a calendar year."""

    __tablename__ = "inpatient_counters"
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), primary_key=True)
    year: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    deductible_used_fen: Mapped[int] = mapped_column(Fen, default=0)
    fund_paid_fen: Mapped[int] = mapped_column(Fen, default=0)
