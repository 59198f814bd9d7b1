"""Hand-computed inpatient splits under the three demo regions' inpatient policies
(backend/inpatient/policy.py DEMO_POLICIES, docs/inpatient.md): for each region a first and a
second admission in a year, a stay that reaches the cap, and stays with class B and C items.
Every figure is worked out in the comment above its assertion. Amounts are fen (¥1 = 100 fen)."""
from types import SimpleNamespace

import pytest

from backend.inpatient import policy as policies
from backend.inpatient.benefits import InpatientYear, Line, settle_stay, stay_deductible


def demo(region, klass):
    row = next(r for r in policies.DEMO_POLICIES if r[:2] == (region, klass))
    return SimpleNamespace(**policies.demo_values(row))


def bill(a=0, b=(), c=0):
    lines = [Line("treatment", "A", a)] if a else []
    lines += [Line("drug", "B", amount) for amount in b]
    return lines + ([Line("material", "C", c)] if c else [])


def parts(split):
    return (split.total_fen, split.deductible_fen, split.class_b_self_fen, split.fund_fen,
            split.personal_account_fen, split.cash_fen)


# ---- Qingpu (Shanghai): employees one ¥1,500 deductible a year, 85 % at every level ---------

QP_EMPLOYEE = demo("310118", "employee")
QP_RESIDENT = demo("310118", "resident")


def test_qingpu_employee_first_admission_with_class_b_and_c():
    # Level 3; A ¥10,000, B ¥2,000, C ¥500 = 1,250,000.
    # B self 10 % = 20,000 → eligible B 180,000. Deductible ¥1,500 (the year's, unused) from A:
    # A after 850,000. Fund 850,000 × 85 % = 722,500 + 180,000 × 85 % = 153,000 → 875,500.
    # Patient 374,500 = co-insurance 154,500 + B self 20,000 + deductible 150,000 + C 50,000,
    # all payable by the account (Shanghai employees); the account holds ¥1,000: 100,000, cash 274,500.
    split = settle_stay(QP_EMPLOYEE, 3, bill(a=1_000_000, b=[200_000], c=50_000), InpatientYear(),
                        100_000)
    assert parts(split) == (1_250_000, 150_000, 20_000, 875_500, 100_000, 274_500)
    assert split.coinsurance_fen == 154_500


def test_qingpu_employee_second_admission_the_yearly_deductible_is_used_up():
    # The first stay used the whole ¥1,500: this one (level 2, A ¥4,000) has no deductible.
    # Fund 400,000 × 85 % = 340,000; patient 60,000; account empty → all cash.
    year = InpatientYear(deductible_used_fen=150_000, fund_paid_fen=875_500, earlier_admissions=1)
    assert stay_deductible(QP_EMPLOYEE, 2, year) == 0
    split = settle_stay(QP_EMPLOYEE, 2, bill(a=400_000), year, 0)
    assert parts(split) == (400_000, 0, 0, 340_000, 0, 60_000)


def test_qingpu_employee_stay_reaching_the_cap():
    # ¥588,000 of the ¥590,000 cap paid already: 200,000 left. Level 3, A ¥10,000, deductible used:
    # the fund would pay 1,000,000 × 85 % = 850,000 but pays the 200,000 left; patient 800,000.
    year = InpatientYear(deductible_used_fen=150_000, fund_paid_fen=58_800_000, earlier_admissions=2)
    split = settle_stay(QP_EMPLOYEE, 3, bill(a=1_000_000), year, 0, use_personal_account=False)
    assert parts(split) == (1_000_000, 0, 0, 200_000, 0, 800_000)
    assert split.coinsurance_fen == 800_000


def test_qingpu_resident_first_and_second_admission_same_deductible():
    # Residents: per admission by level (¥100 at level 2), no reduction for later admissions.
    # Level 2; A ¥3,000, B ¥1,000, C ¥200 = 420,000. B self 10 % = 10,000, eligible B 90,000.
    # Deductible 10,000 from A → 290,000 × 75 % = 217,500; B 90,000 × 75 % = 67,500 → 285,000.
    # No personal account: the patient's 135,000 is cash.
    first = settle_stay(QP_RESIDENT, 2, bill(a=300_000, b=[100_000], c=20_000), InpatientYear(), 0)
    assert parts(first) == (420_000, 10_000, 10_000, 285_000, 0, 135_000)
    # Second admission, level 2 again: the deductible is ¥100 again; A ¥1,000 → 90,000 × 75 %.
    year = InpatientYear(deductible_used_fen=10_000, fund_paid_fen=285_000, earlier_admissions=1)
    second = settle_stay(QP_RESIDENT, 2, bill(a=100_000), year, 0)
    assert parts(second) == (100_000, 10_000, 0, 67_500, 0, 32_500)


def test_qingpu_resident_stay_reaching_the_cap():
    # ¥299,500 of ¥300,000 paid: 50,000 left. Level 3, A ¥2,000: deductible ¥300 → 170,000 × 60 %
    # = 102,000 wanted, 50,000 paid.
    year = InpatientYear(fund_paid_fen=29_950_000)
    split = settle_stay(QP_RESIDENT, 3, bill(a=200_000), year, 0)
    assert parts(split) == (200_000, 30_000, 0, 50_000, 0, 150_000)


# ---- Wujiang (Suzhou): per admission by level, halved from the second admission ------------

WJ_EMPLOYEE = demo("320509", "employee")
WJ_RESIDENT = demo("320509", "resident")


def test_wujiang_employee_first_admission_b_share_rounded_per_line_c_not_from_the_account():
    # Level 3, first admission: deductible ¥900. A ¥5,000; B two lines 123,457 and 126,543; C ¥400.
    # Total 790,000. B self 8 % per line: 9,876 (9,876.56 down) + 10,123 (10,123.44 down) = 19,999
    # (8 % of the sum would be 20,000). Eligible B 230,001.
    # Deductible 90,000 from A → 410,000 × 90 % = 369,000; B 230,001 × 88 % = 202,400 (.88 down).
    # Fund 571,400. Patient 218,600: co-insurance 68,601 + B self 19,999 + deductible 90,000
    # from the account (178,600); class C 40,000 in cash (Wujiang's account does not pay C).
    split = settle_stay(WJ_EMPLOYEE, 3, bill(a=500_000, b=[123_457, 126_543], c=40_000),
                        InpatientYear(), 640_000)
    assert parts(split) == (790_000, 90_000, 19_999, 571_400, 178_600, 40_000)
    assert split.coinsurance_fen == 68_601


def test_wujiang_employee_second_admission_pays_half_the_deductible():
    # Level 3 again: ¥900 × 50 % = ¥450. A ¥2,000 → 155,000 × 90 % = 139,500; the account is
    # empty: 60,500 cash.
    year = InpatientYear(deductible_used_fen=90_000, fund_paid_fen=571_400, earlier_admissions=1)
    assert stay_deductible(WJ_EMPLOYEE, 3, year) == 45_000
    split = settle_stay(WJ_EMPLOYEE, 3, bill(a=200_000), year, 0)
    assert parts(split) == (200_000, 45_000, 0, 139_500, 0, 60_500)


def test_wujiang_employee_stay_reaching_the_cap():
    # ¥399,000 of ¥400,000 paid; third admission at level 1: ¥300 × 50 % = 15,000.
    # A ¥10,000 → 985,000 × 95 % = 935,750 wanted; 100,000 left of the cap is what the fund pays.
    year = InpatientYear(fund_paid_fen=39_900_000, earlier_admissions=2)
    split = settle_stay(WJ_EMPLOYEE, 1, bill(a=1_000_000), year, 0)
    assert parts(split) == (1_000_000, 15_000, 0, 100_000, 0, 900_000)


def test_wujiang_resident_first_and_second_admission():
    # Level 2: ¥700 first; A ¥6,000, B ¥1,000 (self 10 % = 10,000, eligible 90,000).
    # A after 530,000 × 75 % = 397,500; B 90,000 × 70 % = 63,000 → 460,500. Cash 239,500.
    first = settle_stay(WJ_RESIDENT, 2, bill(a=600_000, b=[100_000]), InpatientYear(), 0)
    assert parts(first) == (700_000, 70_000, 10_000, 460_500, 0, 239_500)
    # Second: ¥350; A ¥1,000 → 65,000 × 75 % = 48,750.
    second = settle_stay(WJ_RESIDENT, 2, bill(a=100_000),
                         InpatientYear(fund_paid_fen=460_500, earlier_admissions=1), 0)
    assert parts(second) == (100_000, 35_000, 0, 48_750, 0, 51_250)


# ---- Jiashan (Jiaxing): per admission, halved later, 15 % B self-pay, one shared pot ---------

JS_EMPLOYEE = demo("330421", "employee")
JS_RESIDENT = demo("330421", "resident")


def test_jiashan_employee_first_admission_the_account_pays_everything_allowed():
    # Level 2: ¥500. A ¥3,000, B ¥1,000 (self 15 % = 15,000, eligible 85,000), C ¥100; 410,000.
    # A after 250,000 × 88 % = 220,000; B 85,000 × 83 % = 70,550 → fund 290,550.
    # Patient 119,450 = co-insurance 44,450 + B self 15,000 + deductible 50,000 + C 10,000: all
    # from the account (¥3,560 is enough): cash 0.
    split = settle_stay(JS_EMPLOYEE, 2, bill(a=300_000, b=[100_000], c=10_000), InpatientYear(),
                        356_000)
    assert parts(split) == (410_000, 50_000, 15_000, 290_550, 119_450, 0)


def test_jiashan_employee_second_admission_and_the_cashier_unticks_the_account():
    # Level 2, second admission: ¥250. A ¥1,000 → 75,000 × 88 % = 66,000; the cashier unticked
    # the account: 34,000 cash.
    year = InpatientYear(fund_paid_fen=290_550, earlier_admissions=1)
    split = settle_stay(JS_EMPLOYEE, 2, bill(a=100_000), year, 356_000, use_personal_account=False)
    assert parts(split) == (100_000, 25_000, 0, 66_000, 0, 34_000)


def test_jiashan_employee_stay_reaching_the_shared_cap():
    # The pot is shared with outpatient care: ¥349,500 of ¥350,000 paid (outpatient and inpatient
    # together) leaves 50,000. Level 3, second admission: ¥800 × 50 % = 40,000; A ¥2,000 →
    # 160,000 × 85 % = 136,000 wanted; 50,000 paid.
    year = InpatientYear(fund_paid_fen=34_950_000, earlier_admissions=1)
    split = settle_stay(JS_EMPLOYEE, 3, bill(a=200_000), year, 0)
    assert parts(split) == (200_000, 40_000, 0, 50_000, 0, 150_000)


def test_jiashan_resident_deductible_larger_than_class_a_takes_class_b_next():
    # Level 3: ¥1,200. A ¥500, B ¥1,000 (self 15,000, eligible 85,000), C ¥300; total 180,000.
    # Deductible: 50,000 from A (all of it), 70,000 from B → B after 15,000 × 55 % = 8,250.
    # Patient 171,750 in cash (no account).
    split = settle_stay(JS_RESIDENT, 3, bill(a=50_000, b=[100_000], c=30_000), InpatientYear(), 0)
    assert parts(split) == (180_000, 120_000, 15_000, 8_250, 0, 171_750)


@pytest.mark.parametrize("row", policies.DEMO_POLICIES, ids=lambda row: "-".join(row[:2]))
def test_every_demo_policy_is_valid_and_parts_add_up(row):
    values = policies.demo_values(row)
    assert policies.check_changes(values, {"deductible_mode": values["deductible_mode"]}) == []
    policy = SimpleNamespace(**values)
    for level in (1, 2, 3):
        split = settle_stay(policy, level, bill(a=123_457, b=[98_765, 4_321], c=1_111),
                            InpatientYear(earlier_admissions=level - 1), 50_000)
        assert split.fund_fen + split.personal_account_fen + split.cash_fen == split.total_fen
        assert min(split.fund_fen, split.personal_account_fen, split.cash_fen) >= 0
