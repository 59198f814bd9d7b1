"""The split of a stay's bill under the home region's inpatient policy. Pure arithmetic on integer
fen: no database, no Flask (the national interface calls it too).

1. The stay's deductible (起付线): ``per_year`` — what remains of the yearly one after this year's
   earlier inpatient settlements; ``per_admission`` — the institution level's figure, times
   ``later_admission_deductible_bp`` from the second settled admission of the year on.
2. Then the outpatient order (backend/counter/benefits.py, docs/settlement.md): class C in full by
   the patient, the class B self-pay share per line, the deductible from eligible A then B, the
   fund's ratio by level and class of the rest (rounded down), never more than the year's
   remaining cap; the personal account where allowed, the rest cash."""
from dataclasses import dataclass

from ..counter import benefits as outpatient
from ..counter.benefits import Line, Split  # noqa: F401  (the same shapes as at the counter)


@dataclass(frozen=True)
class InpatientYear:
    """What the person used this calendar year before this stay.

    ``fund_paid_fen`` is what counts against the inpatient cap: inpatient fund payments, plus
    outpatient ones when the policy's cap is shared."""
    deductible_used_fen: int = 0
    fund_paid_fen: int = 0
    earlier_admissions: int = 0  # stays of this person settled (not reversed) this year


@dataclass(frozen=True)
class _AsOutpatient:
    """The inpatient policy seen through the outpatient calculation's fields."""
    deductible_fen: int
    annual_cap_fen: int
    class_b_self_share_bp: int
    has_personal_account: bool
    personal_account_pays_deductible: bool
    personal_account_pays_class_c: bool
    ratios: tuple

    def ratio_bp(self, level, coverage_class):
        return self.ratios[(level, coverage_class)]


def stay_deductible(policy, level, year):
    """The deductible this stay may still use (before looking at its bill)."""
    if policy.deductible_mode == "per_year":
        return max(0, policy.deductible_year_fen - year.deductible_used_fen)
    full = getattr(policy, f"deductible_l{level}_fen")
    if year.earlier_admissions >= 1:
        return full * policy.later_admission_deductible_bp // 10_000
    return full


def settle_stay(policy, level, lines, year, personal_account_fen, use_personal_account=True):
    """Split a stay's bill. ``policy`` has the InpatientPolicy fields, ``level`` is the
    institution's, ``lines`` are ``Line`` (category, coverage_class, amount_fen)."""
    view = _AsOutpatient(
        deductible_fen=stay_deductible(policy, level, year),
        annual_cap_fen=policy.annual_cap_fen,
        class_b_self_share_bp=policy.class_b_self_share_bp,
        has_personal_account=policy.has_personal_account,
        personal_account_pays_deductible=policy.personal_account_pays_deductible,
        personal_account_pays_class_c=policy.personal_account_pays_class_c,
        ratios={(lv, klass): getattr(policy, f"ratio_l{lv}_{klass.lower()}_bp")
                for lv in (1, 2, 3) for klass in ("A", "B")})
    return outpatient.settle(view, level, lines,
                             outpatient.YearSoFar(deductible_used_fen=0,
                                                  fund_paid_fen=year.fund_paid_fen),
                             personal_account_fen, use_personal_account)
