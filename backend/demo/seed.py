"""``flask demo seed``: puts the demo zone in the database. Idempotent: rows are found by their
natural keys and brought back to the demo values; balances and passwords already there are kept."""
import hashlib
import secrets
from datetime import date

from sqlalchemy import select

from ..accounts.hashing import hash_password
from ..inpatient import policy as inpatient_policy
from ..models import Account, BusLine, FamilyGrant, Institution, MedicalPolicy, Person, Region, Venue
from ..models.base import utcnow
from ..oversight import audit
from ..registry import identity
from . import data

NOT_ACCEPTING_EVERY = 4  # every 4th village clinic is networked but takes no e-voucher yet


def demo_national_id(region, born, sequence):
    first17 = region + born + sequence
    return first17 + identity.check_digit(first17)


def demo_insured_since(born, insurance_class):
    """A plausible start: employees from 20 (the employee scheme began in 1999), residents from
    birth (the resident scheme began in 2008)."""
    year = int(born[:4])
    if insurance_class == "employee":
        return date(max(year + 20, 1999), 1, 1)
    return date(max(year, 2008), 1, 1)


def seed(session, id_hash_key):
    regions = {r.code: r for r in session.scalars(select(Region))}
    for code, zh, en, prov_zh, prov_en, threshold in data.REGIONS:
        region = regions.get(code) or Region(code=code)
        region.name_zh, region.name_en = zh, en
        region.province_zh, region.province_en = prov_zh, prov_en
        region.audit_bill_threshold_fen = threshold
        region.password_free_max_fen = data.PASSWORD_FREE_MAX[code]
        regions[code] = session.merge(region)
    session.flush()
    _seed_policies(session)
    inpatient_policy.seed_demo(session)  # issue 17: docs/inpatient.md
    _seed_institutions(session)
    _seed_bus_lines(session, regions)
    _seed_venues(session)
    persons = _seed_persons(session, id_hash_key)
    _seed_accounts(session, persons)
    _seed_family_grants(session)
    audit.record(session, actor="cli:demo seed", action="demo.seed", target_type="zone",
                 target_id="demo")
    session.commit()
    return [(login, what) for login, _, _, what in data.ACCOUNTS]


# One venue of each kind, one in each region (issue 19; docs/venues.md): name, English, kind, region.
DEMO_VENUES = [
    ("青浦区博物馆", "Qingpu Museum", "museum", "310118"),
    ("吴江区图书馆", "Wujiang Library", "library", "320509"),
    ("西塘古镇景区", "Xitang Ancient Town", "scenic", "330421"),
]


def _seed_venues(session):
    """Found by name and region; a venue already there is left as it is (its gates keep working)."""
    known = set(session.execute(select(Venue.name_zh, Venue.region_code)).all())
    for zh, en, kind, region in DEMO_VENUES:
        if (zh, region) not in known:
            session.add(Venue(name_zh=zh, name_en=en, kind=kind, region_code=region,
                              created_by="cli:demo seed"))


def _seed_policies(session):
    existing = {(p.region_code, p.insurance_class): p for p in session.scalars(select(MedicalPolicy))}
    for region, klass, deductible, cap, a, b, b_self, has_pa, pa_ded, pa_c in data.POLICIES:
        policy = existing.get((region, klass)) or MedicalPolicy(region_code=region,
                                                                insurance_class=klass)
        policy.deductible_fen, policy.annual_cap_fen = deductible, cap
        policy.ratio_l1_a_bp, policy.ratio_l2_a_bp, policy.ratio_l3_a_bp = a
        policy.ratio_l1_b_bp, policy.ratio_l2_b_bp, policy.ratio_l3_b_bp = b
        policy.class_b_self_share_bp = b_self
        policy.has_personal_account = has_pa
        policy.personal_account_pays_deductible = pa_ded
        policy.personal_account_pays_class_c = pa_c
        session.add(policy)


def demo_institutions():
    """Yield (code, zh, en, region, level, accepts e-voucher) for the 85 demo institutions."""
    counters = {}
    village_index = 0

    def next_code(region):
        counters[region] = counters.get(region, 0) + 1
        return f"H{region}{counters[region]:05d}"

    for region, zh, en, level in data.HOSPITALS:
        yield next_code(region), zh, en, region, level, True
    for region, zh, pinyin, kind, _villages in data.TOWNS:
        yield (next_code(region), f"{zh}社区卫生服务中心",
               f"{pinyin} {kind} Community Health Centre", region, 1, True)
    for region, zh, pinyin, _kind, villages in data.TOWNS:
        for n in range(1, villages + 1):
            village_index += 1
            accepts = village_index % NOT_ACCEPTING_EVERY != 0
            yield (next_code(region), f"{zh}第{n}村卫生室", f"{pinyin} Village Clinic No. {n}",
                   region, 1, accepts)


def _seed_institutions(session):
    for code, zh, en, region, level, accepts in demo_institutions():
        session.merge(Institution(code=code, name_zh=zh, name_en=en, region_code=region,
                                  level=level, networked=True, accepts_evoucher=accepts))


def _seed_bus_lines(session, regions):
    for code, zh, en, fare, served in data.BUS_LINES:
        line = session.get(BusLine, code) or BusLine(code=code)
        line.name_zh, line.name_en, line.fare_fen = zh, en, fare
        line.regions = [regions[r] for r in served]
        session.add(line)


def _seed_persons(session, id_hash_key):
    persons = {}
    for key, region, born, seq, name, phone, klass, pa, wallet, limit in data.PERSONS:
        national_id = demo_national_id(region, born, seq)
        id_hash = identity.hash_national_id(id_hash_key, national_id)
        person = session.scalars(select(Person).filter_by(national_id_hash=id_hash)).first()
        if person is None:
            person = Person(national_id_hash=id_hash, holder_id=identity.new_holder_id(),
                            personal_account_fen=pa, transit_wallet_fen=wallet)
            session.add(person)
        person.national_id_masked = identity.mask_national_id(national_id)
        person.name, person.phone = name, phone
        person.home_region, person.insurance_class = region, klass
        person.status, person.password_free_limit_fen = "active", limit
        if person.insured_since is None:  # what a certificate states (docs/certificate.md)
            person.insured_since = demo_insured_since(born, klass)
        persons[key] = person
    session.flush()
    return persons


def _seed_accounts(session, persons):
    for login, role, binding, _ in data.ACCOUNTS:
        account = session.scalars(select(Account).filter_by(login=login)).first()
        if account is None:
            account = Account(login=login, password_hash=hash_password(data.DEMO_PASSWORD))
            session.add(account)
        account.role, account.active = role, True
        account.person_id = persons[binding["person"]].id if "person" in binding else None
        account.institution_code = binding.get("institution")
        account.region_code = binding.get("region")
        account.display_name = data.STAFF_NAMES.get(login)


def _seed_family_grants(session):
    """Active grants as if the invitations had been accepted (their codes unknowable and expired);
    a grant revoked since is granted again, one still active is left alone."""
    logins = {login for pair in data.FAMILY_GRANTS for login in pair}
    accounts = {a.login: a for a in session.scalars(select(Account).where(Account.login.in_(logins)))}
    session.flush()
    now = utcnow()
    for grantor_login, member_login in data.FAMILY_GRANTS:
        grantor, member = accounts[grantor_login], accounts[member_login]
        active = session.scalars(select(FamilyGrant).filter_by(
            person_id=grantor.person_id, member_account_id=member.id, status="active")).first()
        if active is None:
            session.add(FamilyGrant(
                person_id=grantor.person_id, grantor_account_id=grantor.id,
                member_account_id=member.id, status="active", created_at=now, accepted_at=now,
                invitation_hash=hashlib.sha256(secrets.token_bytes(32)).hexdigest(),
                invitation_expires_at=now))
