"""The zone's registry: regions with their medical policies, institutions and bus lines."""
from sqlalchemy import Boolean, CheckConstraint, Column, ForeignKey, SmallInteger, String, Table
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, Fen

INSURANCE_CLASSES = ("employee", "resident")

bus_line_regions = Table(
    "bus_line_regions",
    Base.metadata,
    Column("line_code", ForeignKey("bus_lines.code", ondelete="CASCADE"), primary_key=True),
    Column("region_code", ForeignKey("regions.code"), primary_key=True),
)


class Region(Base):
    __tablename__ = "regions"
    code: Mapped[str] = mapped_column(String(6), primary_key=True)  # administrative division code
    name_zh: Mapped[str] = mapped_column(String(40))
    name_en: Mapped[str] = mapped_column(String(60))
    province_zh: Mapped[str] = mapped_column(String(20))
    province_en: Mapped[str] = mapped_column(String(40))
    # A single bill above this amount is flagged for the joint audit.
    audit_bill_threshold_fen: Mapped[int] = mapped_column(Fen, default=2_000_000)
    # The highest small password-free payment limit a person of this region may choose.
    password_free_max_fen: Mapped[int] = mapped_column(Fen, default=30_000, server_default="30000")

    policies: Mapped[list["MedicalPolicy"]] = relationship(back_populates="region")

    __table_args__ = (
        CheckConstraint("length(code) = 6", name="code_six_digits"),
        CheckConstraint("audit_bill_threshold_fen > 0", name="threshold_positive"),
        CheckConstraint("password_free_max_fen > 0", name="password_free_max_positive"),
    )

    def policy_for(self, insurance_class):
        return next((p for p in self.policies if p.insurance_class == insurance_class), None)


class MedicalPolicy(Base):
    """A home region's outpatient rules for one insurance class. Ratios are basis points (1/10000)."""

    __tablename__ = "medical_policies"
    id: Mapped[int] = mapped_column(primary_key=True)
    region_code: Mapped[str] = mapped_column(ForeignKey("regions.code"))
    insurance_class: Mapped[str] = mapped_column(String(10))
    deductible_fen: Mapped[int] = mapped_column(Fen)  # per person per calendar year
    annual_cap_fen: Mapped[int] = mapped_column(Fen)  # pooled-fund ceiling per person per year
    ratio_l1_a_bp: Mapped[int] = mapped_column(SmallInteger)
    ratio_l2_a_bp: Mapped[int] = mapped_column(SmallInteger)
    ratio_l3_a_bp: Mapped[int] = mapped_column(SmallInteger)
    ratio_l1_b_bp: Mapped[int] = mapped_column(SmallInteger)
    ratio_l2_b_bp: Mapped[int] = mapped_column(SmallInteger)
    ratio_l3_b_bp: Mapped[int] = mapped_column(SmallInteger)
    class_b_self_share_bp: Mapped[int] = mapped_column(SmallInteger)  # 乙类先自付
    # Personal-account rules: whether this class has an account at all, and whether it may pay the
    # deductible and the self-pay share (before cash) when the person allows it.
    has_personal_account: Mapped[bool] = mapped_column(Boolean)
    personal_account_pays_deductible: Mapped[bool] = mapped_column(Boolean)
    personal_account_pays_class_c: Mapped[bool] = mapped_column(Boolean)

    region: Mapped[Region] = relationship(back_populates="policies")

    __table_args__ = (
        CheckConstraint("insurance_class IN ('employee', 'resident')", name="class_known"),
        CheckConstraint("deductible_fen >= 0 AND annual_cap_fen > 0", name="amounts_sane"),
        CheckConstraint(
            " AND ".join(
                f"{c} BETWEEN 0 AND 10000"
                for c in (
                    "ratio_l1_a_bp", "ratio_l2_a_bp", "ratio_l3_a_bp",
                    "ratio_l1_b_bp", "ratio_l2_b_bp", "ratio_l3_b_bp", "class_b_self_share_bp",
                )
            ),
            name="ratios_in_range",
        ),
        {"sqlite_autoincrement": True},
    )

    def ratio_bp(self, level, coverage_class):
        return getattr(self, f"ratio_l{level}_{coverage_class.lower()}_bp")


class Institution(Base):
    __tablename__ = "institutions"
    code: Mapped[str] = mapped_column(String(12), primary_key=True)  # e.g. H31011800001
    name_zh: Mapped[str] = mapped_column(String(80))
    name_en: Mapped[str] = mapped_column(String(120))
    region_code: Mapped[str] = mapped_column(ForeignKey("regions.code"), index=True)
    level: Mapped[int] = mapped_column(SmallInteger)
    networked: Mapped[bool] = mapped_column(Boolean, default=True)
    accepts_evoucher: Mapped[bool] = mapped_column(Boolean, default=True)

    region: Mapped[Region] = relationship()

    __table_args__ = (
        CheckConstraint("level BETWEEN 1 AND 3", name="level_1_to_3"),
        CheckConstraint("networked OR NOT accepts_evoucher", name="evoucher_needs_network"),
    )


class BusLine(Base):
    __tablename__ = "bus_lines"
    code: Mapped[str] = mapped_column(String(16), primary_key=True)
    name_zh: Mapped[str] = mapped_column(String(60))
    name_en: Mapped[str] = mapped_column(String(80))
    fare_fen: Mapped[int] = mapped_column(Fen)
    regions: Mapped[list[Region]] = relationship(secondary=bus_line_regions, order_by=Region.code)

    __table_args__ = (CheckConstraint("fare_fen > 0", name="fare_positive"),)
