"""The national interface (issue 18): the messages a hospital system sent (for the msgid replay),
the visits its messages belong to, and the fee lines uploaded for them."""
from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, BigId, Fen, OpaqueId, Timestamp, utcnow

VISIT_STATUSES = ("identified", "registered", "cancelled", "settled", "reversed")


class NationalMessage(Base):
    """A message answered with infcode 0, kept so that the same msgid again (a HIS retrying after
    a timeout) gets the first answer, byte for byte, and never runs twice."""

    __tablename__ = "national_messages"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    institution_code: Mapped[str] = mapped_column(ForeignKey("institutions.code"))
    msgid: Mapped[str] = mapped_column(String(40))
    infno: Mapped[str] = mapped_column(String(4))
    request_hash: Mapped[str] = mapped_column(String(64))
    answer: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow, index=True)

    __table_args__ = (UniqueConstraint("institution_code", "msgid"),)


class NationalVisit(Base):
    """One visit (就诊) of one person at one institution, from the 1101 scan of the e-voucher code
    to its settlement. The code scanned for 1101 is bound to it: the same code (or the short visit
    token the 1101 answer gave) in this visit's later messages is that scan, not a replay."""

    __tablename__ = "national_visits"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    institution_code: Mapped[str] = mapped_column(ForeignKey("institutions.code"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), index=True)
    psn_no: Mapped[str] = mapped_column(String(30))
    # sha256 of the full code and of the visit token: neither is kept in clear.
    code_digest: Mapped[str] = mapped_column(OpaqueId(64), unique=True)
    token_digest: Mapped[str] = mapped_column(OpaqueId(64), unique=True)
    credential_jti: Mapped[str] = mapped_column(OpaqueId(11))
    code_step: Mapped[int] = mapped_column(Integer)
    mdtrt_id: Mapped[str | None] = mapped_column(String(30), unique=True)
    kind: Mapped[str | None] = mapped_column(String(10))  # outpatient | inpatient
    med_type: Mapped[str | None] = mapped_column(String(6))
    insutype: Mapped[str] = mapped_column(String(3))
    ipt_otp_no: Mapped[str | None] = mapped_column(String(30))
    status: Mapped[str] = mapped_column(String(10), default="identified")
    settlement_id: Mapped[int | None] = mapped_column(ForeignKey("settlements.id"))
    reversal_id: Mapped[int | None] = mapped_column(ForeignKey("settlements.id"))
    # The inpatient domain's stay (backend/inpatient), when the visit is an admission.
    stay_ref: Mapped[str | None] = mapped_column(String(40))
    identified_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)
    registered_at: Mapped[datetime | None] = mapped_column(Timestamp)
    ended_at: Mapped[datetime | None] = mapped_column(Timestamp)  # 2402 出院: the discharge time

    lines: Mapped[list["NationalFeeLine"]] = relationship(back_populates="visit",
                                                          order_by="NationalFeeLine.id")

    __table_args__ = (
        UniqueConstraint("institution_code", "ipt_otp_no"),
        CheckConstraint("status IN ('identified', 'registered', 'cancelled', 'settled', "
                        "'reversed')", name="status_known"),
    )


class NationalFeeLine(Base):
    """A fee line (费用明细) uploaded by 2204 or 2301; a cancel (2205, 2302) marks it cancelled."""

    __tablename__ = "national_fee_lines"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("national_visits.id"), index=True)
    feedetl_sn: Mapped[str] = mapped_column(String(30))
    line_no: Mapped[int | None] = mapped_column(Integer)  # the stay's line number (inpatient)
    chrg_bchno: Mapped[str] = mapped_column(String(30))
    med_chrgitm_type: Mapped[str] = mapped_column(String(6))
    chrgitm_lv: Mapped[str] = mapped_column(String(3))
    category: Mapped[str] = mapped_column(String(14))
    coverage_class: Mapped[str] = mapped_column(String(1))
    amount_fen: Mapped[int] = mapped_column(Fen)
    cnt: Mapped[str] = mapped_column(String(24))
    pric: Mapped[str] = mapped_column(String(24))
    med_list_codg: Mapped[str] = mapped_column(String(50))
    medins_list_codg: Mapped[str] = mapped_column(String(150))
    fee_ocur_time: Mapped[datetime] = mapped_column(Timestamp)
    cancelled: Mapped[bool] = mapped_column(Boolean, default=False)

    visit: Mapped[NationalVisit] = relationship(back_populates="lines")

    __table_args__ = (
        UniqueConstraint("visit_id", "feedetl_sn"),
        CheckConstraint("coverage_class IN ('A', 'B', 'C')", name="class_known"),
        CheckConstraint("amount_fen > 0", name="amount_positive"),
    )
