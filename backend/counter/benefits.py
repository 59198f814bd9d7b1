"""Outpatient settlement by the insured person's home-region policy (benefits follow the home
region). Pure arithmetic on integer fen: no database, no Flask.

Order of the calculation (docs/settlement.md):
1. class C items are paid by the patient in full;
2. of each class B item the self-pay share (乙类先自付) is paid by the patient first;
3. what remains of A and B is eligible; the year's remaining deductible (起付线) is taken from the
   eligible class A amount first, then class B;
4. the pooled fund pays the ratio for the institution's level and coverage class of the rest
   (rounded down to the fen), but never more than the year's remaining cap (封顶线);
5. the patient's part is paid from the personal account where the policy and the person allow
   (co-insurance and the class B share always; the deductible and class C if the policy says so),
   the rest in cash.
"""
from dataclasses import dataclass

COVERAGE_CLASSES = ("A", "B", "C")
CATEGORIES = ("registration", "drug", "examination", "treatment", "material")


@dataclass(frozen=True)
class Line:
    category: str
    coverage_class: str
    amount_fen: int


@dataclass(frozen=True)
class YearSoFar:
    deductible_used_fen: int = 0
    fund_paid_fen: int = 0


@dataclass(frozen=True)
class Split:
    total_fen: int
    fund_fen: int
    personal_account_fen: int
    cash_fen: int
    deductible_fen: int  # the part of the deductible this bill used
    class_b_self_fen: int
    class_c_fen: int
    coinsurance_fen: int  # eligible amount the fund did not pay (ratio share, and past the cap)

    def as_dict(self):
        return dict(vars(self))


def _sum(lines, coverage_class):
    return sum(line.amount_fen for line in lines if line.coverage_class == coverage_class)


def settle(policy, level, lines, so_far, personal_account_fen, use_personal_account=True):
    """Split a bill. ``policy`` has the MedicalPolicy fields; ``level`` is the institution's."""
    total = sum(line.amount_fen for line in lines)
    class_c = _sum(lines, "C")
    class_b = _sum(lines, "B")
    b_self = sum(line.amount_fen * policy.class_b_self_share_bp // 10_000
                 for line in lines if line.coverage_class == "B")
    eligible_a, eligible_b = _sum(lines, "A"), class_b - b_self

    remaining_deductible = max(0, policy.deductible_fen - so_far.deductible_used_fen)
    deduct_a = min(eligible_a, remaining_deductible)
    deduct_b = min(eligible_b, remaining_deductible - deduct_a)
    after_a, after_b = eligible_a - deduct_a, eligible_b - deduct_b

    fund_wanted = (after_a * policy.ratio_bp(level, "A") // 10_000
                   + after_b * policy.ratio_bp(level, "B") // 10_000)
    fund = min(fund_wanted, max(0, policy.annual_cap_fen - so_far.fund_paid_fen))
    deductible = deduct_a + deduct_b
    coinsurance = after_a + after_b - fund
    patient = total - fund

    account_may_pay = 0
    if policy.has_personal_account and use_personal_account:
        account_may_pay = coinsurance + b_self
        if policy.personal_account_pays_deductible:
            account_may_pay += deductible
        if policy.personal_account_pays_class_c:
            account_may_pay += class_c
    from_account = min(account_may_pay, max(0, personal_account_fen))
    return Split(total_fen=total, fund_fen=fund, personal_account_fen=from_account,
                 cash_fen=patient - from_account, deductible_fen=deductible,
                 class_b_self_fen=b_self, class_c_fen=class_c, coinsurance_fen=coinsurance)
