"""Hand-computed settlements for each region's employee policy (demo data): inside the deductible,
across it, and hitting the annual cap. Every figure is worked out in the comment above it."""
from types import SimpleNamespace

import pytest

from backend.counter.benefits import Line, YearSoFar, settle
from backend.demo import data


def policy(region, klass="employee"):
    for r, k, deductible, cap, a, b, b_self, has_pa, pa_ded, pa_c in data.POLICIES:
        if (r, k) == (region, klass):
            ratios = {f"ratio_l{level}_{c}_bp": value
                      for c, values in (("a", a), ("b", b)) for level, value in zip((1, 2, 3), values)}
            p = SimpleNamespace(deductible_fen=deductible, annual_cap_fen=cap,
                                class_b_self_share_bp=b_self, has_personal_account=has_pa,
                                personal_account_pays_deductible=pa_ded,
                                personal_account_pays_class_c=pa_c, **ratios)
            p.ratio_bp = lambda level, c, p=p: getattr(p, f"ratio_l{level}_{c.lower()}_bp")
            return p
    raise KeyError(region)


BILL = [Line("registration", "A", 2_000), Line("examination", "A", 18_000),
        Line("drug", "B", 10_000), Line("material", "C", 5_000)]  # ¥350.00


def split(region, so_far, level=3, account=1_000_000, lines=BILL, klass="employee"):
    s = settle(policy(region, klass), level, lines, so_far, account)
    assert s.fund_fen + s.personal_account_fen + s.cash_fen == s.total_fen
    return (s.fund_fen, s.personal_account_fen, s.cash_fen, s.deductible_fen)


# Jiashan employee (deductible ¥800, cap ¥30,000; level 3: A 70 %, B 65 %; B self-share 15 %;
# the personal account may pay the deductible and class C).
def test_jiashan_inside_the_deductible():
    # B self 10000×15% = 1500; eligible A 20000 + B 8500 = 28500 ≤ 80000 left → all deductible.
    # Fund 0. Patient 35000, all payable from the account.
    assert split("330421", YearSoFar()) == (0, 35_000, 0, 28_500)


def test_jiashan_across_the_deductible():
    # 10000 of the deductible left: A 20000 → 10000 after; B eligible 8500 untouched.
    # Fund = 10000×70% + 8500×65% = 7000 + 5525 = 12525. Patient 35000−12525 = 22475.
    assert split("330421", YearSoFar(70_000, 0)) == (12_525, 22_475, 0, 10_000)


def test_jiashan_hitting_the_cap():
    # Deductible used up; fund wanted 20000×70% + 8500×65% = 14000 + 5525 = 19525, but only
    # 3000000 − 2995000 = 5000 of the cap is left. Fund 5000, patient 30000.
    assert split("330421", YearSoFar(80_000, 2_995_000)) == (5_000, 30_000, 0, 0)


# Qingpu employee (deductible ¥1,500, cap ¥50,000; level 2: A 75 %, B 70 %; B self 10 %;
# the account pays the deductible and class C).
def test_qingpu_inside_the_deductible():
    # B self 1000; eligible 20000 + 9000 = 29000 ≤ 150000. Fund 0; patient 35000.
    assert split("310118", YearSoFar(), level=2) == (0, 35_000, 0, 29_000)


def test_qingpu_across_the_deductible():
    # 5000 left: A 20000 → 15000. Fund = 15000×75% + 9000×70% = 11250 + 6300 = 17550.
    # Patient 35000 − 17550 = 17450.
    assert split("310118", YearSoFar(145_000, 0), level=2) == (17_550, 17_450, 0, 5_000)


def test_qingpu_hitting_the_cap_with_a_small_account():
    # Fund wanted 20000×75% + 9000×70% = 21300; cap left 5000000 − 4990000 = 10000 → fund 10000.
    # Patient 25000; the account holds only 12345 → account 12345, cash 12655.
    assert split("310118", YearSoFar(150_000, 4_990_000), level=2, account=12_345) == \
        (10_000, 12_345, 12_655, 0)


# Wujiang employee (deductible ¥1,000, cap ¥40,000; level 1: A 85 %, B 80 %; B self 8 %;
# the account pays the deductible but NOT class C).
def test_wujiang_inside_the_deductible():
    # B self 800; eligible 20000 + 9200 = 29200 ≤ 100000. Fund 0. Patient 35000, of which class C
    # 5000 must be cash: account 30000, cash 5000.
    assert split("320509", YearSoFar(), level=1) == (0, 30_000, 5_000, 29_200)


def test_wujiang_across_the_deductible():
    # 25000 left: A 20000 → 0; B 9200 → 4200. Fund = 0 + 4200×80% = 3360.
    # Patient 31640 (deductible 25000 + B self 800 + co-insurance 840 + C 5000); C in cash.
    assert split("320509", YearSoFar(75_000, 0), level=1) == (3_360, 26_640, 5_000, 25_000)


def test_wujiang_hitting_the_cap():
    # Fund wanted 20000×85% + 9200×80% = 17000 + 7360 = 24360; cap left 1000.
    # Patient 34000: C 5000 cash, 29000 from the account.
    assert split("320509", YearSoFar(100_000, 3_999_000), level=1) == (1_000, 29_000, 5_000, 0)


def test_resident_schemes_have_no_personal_account():
    # Jiashan resident, level 3: deductible ¥400. B self 15% = 1500; eligible 28500 ≤ 40000.
    # Fund 0; everything in cash.
    assert split("330421", YearSoFar(), klass="resident") == (0, 0, 35_000, 28_500)


@pytest.mark.parametrize("amount", [1, 3, 7, 99_999])
def test_rounding_never_creates_or_loses_a_fen(amount):
    s = settle(policy("320509"), 2, [Line("drug", "B", amount), Line("drug", "A", amount)],
               YearSoFar(100_000, 0), 10 ** 9)
    assert s.fund_fen + s.personal_account_fen + s.cash_fen == 2 * amount
    assert s.fund_fen <= 2 * amount
