"""Each region's inpatient policy: the fields an admin may change, their validation (every problem
at once, with a stable code), reading and editing, and the demo zone's figures. No Flask."""
from sqlalchemy import select

from ..models import InpatientPolicy, Region
from ..service.errors import Forbidden, NotFound, ValidationFailed

MODES = ("per_year", "per_admission")
MAX_POLICY_FEN = 100_000_000_000
# name -> kind: fen (integer fen), bp (basis points), bool, days, mode
FIELDS = {
    "deductible_mode": "mode",
    "deductible_year_fen": "fen",
    "deductible_l1_fen": "fen", "deductible_l2_fen": "fen", "deductible_l3_fen": "fen",
    "later_admission_deductible_bp": "bp",
    "ratio_l1_a_bp": "bp", "ratio_l2_a_bp": "bp", "ratio_l3_a_bp": "bp",
    "ratio_l1_b_bp": "bp", "ratio_l2_b_bp": "bp", "ratio_l3_b_bp": "bp",
    "class_b_self_share_bp": "bp",
    "annual_cap_fen": "fen",
    "cap_shared_with_outpatient": "bool",
    "has_personal_account": "bool",
    "personal_account_pays_deductible": "bool",
    "personal_account_pays_class_c": "bool",
    "audit_max_stay_days": "days",
    "audit_daily_cost_fen": "fen",
}

# Demo figures (docs/inpatient.md says where each rule comes from). Per region and class:
# mode, yearly deductible, per-admission deductibles L1-L3, later-admission share, A ratios L1-L3,
# B ratios L1-L3, B self share, cap, shared cap, personal account (has, pays deductible, pays C),
# audit: longest stay in days, daily cost.
DEMO_POLICIES = [
    ("310118", "employee", "per_year", 150_000, (0, 0, 0), 10000, (8500, 8500, 8500),
     (8500, 8500, 8500), 1000, 59_000_000, False, (True, True, True), 30, 600_000),
    ("310118", "resident", "per_admission", 0, (5_000, 10_000, 30_000), 10000,
     (8000, 7500, 6000), (8000, 7500, 6000), 1000, 30_000_000, False, (False, False, False),
     60, 600_000),
    ("320509", "employee", "per_admission", 0, (30_000, 60_000, 90_000), 5000, (9500, 9200, 9000),
     (9200, 9000, 8800), 800, 40_000_000, False, (True, True, False), 30, 400_000),
    ("320509", "resident", "per_admission", 0, (40_000, 70_000, 100_000), 5000,
     (8500, 7500, 6500), (8000, 7000, 6000), 1000, 25_000_000, False, (False, False, False),
     30, 400_000),
    ("330421", "employee", "per_admission", 0, (30_000, 50_000, 80_000), 5000, (9000, 8800, 8500),
     (8500, 8300, 8000), 1500, 35_000_000, True, (True, True, True), 30, 500_000),
    ("330421", "resident", "per_admission", 0, (50_000, 80_000, 120_000), 5000,
     (8000, 7000, 6000), (7500, 6500, 5500), 1500, 20_000_000, True, (False, False, False),
     30, 500_000),
]


def demo_values(row):
    """The field values of one DEMO_POLICIES row."""
    (_, _, mode, year, (d1, d2, d3), later, (a1, a2, a3), (b1, b2, b3), b_self, cap, shared,
     (has_pa, pa_ded, pa_c), max_days, daily) = row
    return {"deductible_mode": mode, "deductible_year_fen": year, "deductible_l1_fen": d1,
            "deductible_l2_fen": d2, "deductible_l3_fen": d3,
            "later_admission_deductible_bp": later, "ratio_l1_a_bp": a1, "ratio_l2_a_bp": a2,
            "ratio_l3_a_bp": a3, "ratio_l1_b_bp": b1, "ratio_l2_b_bp": b2, "ratio_l3_b_bp": b3,
            "class_b_self_share_bp": b_self, "annual_cap_fen": cap,
            "cap_shared_with_outpatient": shared, "has_personal_account": has_pa,
            "personal_account_pays_deductible": pa_ded, "personal_account_pays_class_c": pa_c,
            "audit_max_stay_days": max_days, "audit_daily_cost_fen": daily}


def seed_demo(session):
    """Create or reset the demo zone's six inpatient policies."""
    existing = {(p.region_code, p.insurance_class): p
                for p in session.scalars(select(InpatientPolicy))}
    for row in DEMO_POLICIES:
        policy = existing.get(row[:2]) or InpatientPolicy(region_code=row[0], insurance_class=row[1])
        for name, value in demo_values(row).items():
            setattr(policy, name, value)
        session.add(policy)
    session.flush()


def policy_for(session, region_code, insurance_class):
    return session.scalars(select(InpatientPolicy).filter_by(
        region_code=region_code, insurance_class=insurance_class)).first()


def as_dict(policy):
    return {"region": policy.region_code, "insurance_class": policy.insurance_class,
            **{name: getattr(policy, name) for name in FIELDS}}


def _problem(field, code, detail):
    return {"field": field, "code": code, "detail": detail}


def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def _field_problem(name, value):
    kind = FIELDS.get(name)
    if kind is None:
        return _problem(name, "unknown_field", "This is not an inpatient policy field.")
    if kind == "bool":
        return None if isinstance(value, bool) else _problem(name, "not_boolean",
                                                             "Must be true or false.")
    if kind == "mode":
        return None if value in MODES else _problem(name, "not_a_mode",
                                                    "per_year or per_admission.")
    if not _is_int(value):
        return _problem(name, "not_integer", "Must be a whole number.")
    if kind == "bp" and not 0 <= value <= 10_000:
        return _problem(name, "ratio_out_of_range",
                        "A ratio is 0 to 10000 basis points (0 to 100 %).")
    if kind == "fen" and not 0 <= value <= MAX_POLICY_FEN:
        return _problem(name, "amount_out_of_range", f"An amount is 0 to {MAX_POLICY_FEN} fen.")
    if kind == "days" and not 1 <= value <= 365:
        return _problem(name, "days_out_of_range", "1 to 365 days.")
    return None


def check_changes(current, changes):
    """The problems with applying ``changes`` to ``current`` (every field), as a list of
    {field, code, detail}; empty when the result is a valid policy."""
    if not isinstance(changes, dict) or not changes:
        return [_problem(None, "nothing_to_change", "Send at least one policy field to change.")]
    problems = [p for p in (_field_problem(n, v) for n, v in changes.items()) if p]
    if problems:
        return problems
    merged = {**current, **changes}
    levels = [merged[f"deductible_l{level}_fen"] for level in (1, 2, 3)]
    largest = merged["deductible_year_fen"] if merged["deductible_mode"] == "per_year" \
        else max(levels)
    if merged["annual_cap_fen"] <= 0:
        problems.append(_problem("annual_cap_fen", "cap_not_positive",
                                 "The annual cap must be above zero."))
    elif merged["annual_cap_fen"] < largest:
        problems.append(_problem("annual_cap_fen", "cap_below_deductible",
                                 "The annual cap must not be below the deductible."))
    if merged["deductible_mode"] == "per_admission" and levels != sorted(levels):
        problems.append(_problem("deductible_l1_fen", "deductible_levels_descending",
                                 "Per admission, level 1 ≤ level 2 ≤ level 3."))
    if merged["audit_daily_cost_fen"] <= 0:
        problems.append(_problem("audit_daily_cost_fen", "threshold_not_positive",
                                 "The daily cost threshold must be above zero."))
    if not merged["has_personal_account"] and (merged["personal_account_pays_deductible"]
                                               or merged["personal_account_pays_class_c"]):
        problems.append(_problem("has_personal_account", "no_personal_account",
                                 "Without a personal account it cannot pay anything."))
    return problems


def list_policies(session, scope):
    """Every inpatient policy an admin of ``scope`` (a region code, None: the zone) may see."""
    query = select(InpatientPolicy, Region).join(Region, Region.code == InpatientPolicy.region_code)
    if scope is not None:
        query = query.filter(InpatientPolicy.region_code == scope)
    return [{**as_dict(policy), "region_name": {"zh": region.name_zh, "en": region.name_en}}
            for policy, region in session.execute(
                query.order_by(InpatientPolicy.region_code, InpatientPolicy.insurance_class))]


def update(session, *, scope, region_code, insurance_class, changes):
    """Apply valid changes; return (policy dict, {field: [before, after]}) for the audit log."""
    region = session.get(Region, region_code) if isinstance(region_code, str) else None
    if region is None:
        raise NotFound("No such region.", code="region_not_found")
    if scope is not None and region.code != scope:
        raise Forbidden("This belongs to another region; you administer only your own.",
                        code="outside_your_region")
    policy = policy_for(session, region.code, insurance_class)
    if policy is None:
        raise NotFound("This region has no inpatient policy for that insurance class.",
                       code="policy_not_found")
    current = {name: getattr(policy, name) for name in FIELDS}
    problems = check_changes(current, changes)
    if problems:
        raise ValidationFailed("The policy was not changed: " + problems[0]["detail"],
                               code="invalid_policy", extra={"problems": problems})
    diff = {name: [current[name], value] for name, value in changes.items()
            if current[name] != value}
    for name, (_, value) in diff.items():
        setattr(policy, name, value)
    session.flush()
    return as_dict(policy), diff
