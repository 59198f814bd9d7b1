"""Settling a bill at the counter, and refunding it. One transaction each; idempotent.

A scan (an online-verified code) is remembered in Redis for a while, so a cashier can type the bill
after scanning. Settling takes the scan, the bill and an Idempotency-Key: the same key returns the
same settlement; the same code cannot settle twice (a database unique key stands behind it)."""
import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timezone

from redis.exceptions import RedisError
from sqlalchemy import (BigInteger, Boolean, String, bindparam, exists, func, insert, literal,
                        select, true, update)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

from ..models import (BenefitCounter, Credential, InpatientSettlement, Institution, Person,
                      Settlement, SettlementLine)
from ..models.base import CHINA, at, utcnow
from ..models.fastsql import Hot
from ..oversight import rules
from ..service.errors import Conflict, Forbidden, NotFound, ValidationFailed, YimaError
from ..service.idempotency import check_idempotency_key, check_same_request, fingerprint
from ..tokens.errors import Revoked
from . import benefits
from .registry_cache import VERSION, RegistryCache

SCAN_TTL = 900
MAX_LINES, MAX_LINE_FEN = 100, 100_000_000  # ¥1,000,000 a line is already absurd for outpatients


def new_scan(*, jti, step, person_id, institution_code, cashier_id):
    """A scan to remember: its id and the Redis (key, value, seconds) that hold it."""
    scan_id = secrets.token_urlsafe(12)
    return scan_id, (f"scan:{scan_id}", json.dumps({
        "jti": jti, "step": step, "person_id": person_id,
        "institution": institution_code, "cashier": cashier_id}), SCAN_TTL)


_CREDENTIAL = select(Credential.revoked_at).where(Credential.jti == bindparam("jti"))


def _scanned_person(session, scan):
    """The person of a scan, if the scan may still pay (``_may_pay``)."""
    live = True
    if not scan.get("manual"):  # one Core read
        credential = session.connection().execute(_CREDENTIAL, {"jti": scan["jti"]}).first()
        live = credential is not None and credential.revoked_at is None
    person = session.get(Person, scan["person_id"])
    _may_pay(scan, live, person.status)
    return person


def _may_pay(scan, credential_live, person_status):
    """Between the scan and the bill the phone may be reported lost (its credential revoked) or
    the person's registry entry suspended."""
    if not scan.get("manual") and not credential_live:  # an unknown credential counts as revoked
        raise Revoked("The credential was revoked after the scan.")  # (identify.py: no code)
    if person_status != "active":
        raise Forbidden("This person's insurance is suspended.", code="person_suspended")


def _scan(store, scan_id, institution_code):
    scan = _scan_or_none(store, scan_id, institution_code)
    if scan is None:
        raise _scan_expired()
    return scan


def _scan_or_none(store, scan_id, institution_code):
    """The scan, if it is still remembered and was made at this institution."""
    raw = store.get(f"scan:{scan_id}") if isinstance(scan_id, str) and len(scan_id) < 40 else None
    scan = json.loads(raw) if raw else None
    return scan if scan is not None and scan["institution"] == institution_code else None


def _scan_expired():
    return YimaError("Scan the patient's code again (a scan is good for 15 minutes).",
                     code="scan_expired", status=409, title="Scan expired")


def parse_lines(raw_lines):
    if not isinstance(raw_lines, list) or not 1 <= len(raw_lines) <= MAX_LINES:
        raise ValidationFailed(f"A bill has 1 to {MAX_LINES} lines.", code="bad_lines")
    lines = []
    for number, raw in enumerate(raw_lines, start=1):
        if not isinstance(raw, dict):
            raise ValidationFailed(f"Line {number} is not an object.", code="bad_lines")
        amount, category, klass = raw.get("amount_fen"), raw.get("category"), raw.get("coverage_class")
        if category not in benefits.CATEGORIES:
            raise ValidationFailed(f"Line {number}: unknown category.", code="bad_lines",
                                   extra={"line": number, "field": "category"})
        if klass not in benefits.COVERAGE_CLASSES:
            raise ValidationFailed(f"Line {number}: coverage class is A, B or C.", code="bad_lines",
                                   extra={"line": number, "field": "coverage_class"})
        if not isinstance(amount, int) or isinstance(amount, bool) or not 0 < amount <= MAX_LINE_FEN:
            raise ValidationFailed(f"Line {number}: the amount must be a positive number of fen.",
                                   code="bad_lines", extra={"line": number, "field": "amount_fen"})
        lines.append((benefits.Line(category, klass, amount), str(raw.get("description", ""))[:80]))
    return lines


def _year_of(now):
    return datetime.fromtimestamp(now, CHINA).year


def _compute(session, person, institution, lines, now, use_account):
    """The split a preview shows (settle computes its own under the counter's lock)."""
    policy = person.region.policy_for(person.insurance_class)
    counter = session.scalars(select(BenefitCounter).filter_by(
        person_id=person.id, year=_year_of(now))).first()
    so_far = benefits.YearSoFar(counter.deductible_used_fen, counter.fund_paid_fen) if counter \
        else benefits.YearSoFar()
    return benefits.settle(policy, institution.level, [line for line, _ in lines], so_far,
                           person.personal_account_fen, use_account)


def _accepting(session, institution_code):
    """The institution, if it still accepts the e-voucher (an admin may switch it off between a
    scan and the settlement)."""
    institution = session.get(Institution, institution_code)
    if not institution.accepts_evoucher:
        raise Forbidden("This institution does not accept the medical e-voucher.",
                        code="evoucher_not_accepted")
    return institution


def _request_hash(scan_id, lines, use_account):
    return fingerprint("settle", scan_id=scan_id, use_personal_account=bool(use_account), lines=[
        [line.category, line.coverage_class, line.amount_fen, text] for line, text in lines])


def preview(session, store, *, scan_id, institution_code, raw_lines, now, use_account=True):
    scan = _scan(store, scan_id, institution_code)
    person = _scanned_person(session, scan)
    institution = _accepting(session, institution_code)
    split = _compute(session, person, institution, parse_lines(raw_lines), now, use_account)
    return person, split


@dataclass
class Settled:
    """What ``settle_at_counter`` made, with what it read on the way (the receipt reuses them
    instead of loading them again). For a replay only ``settlement`` (the ORM object) and
    ``created``; for a new bill ``settlement`` is a ``NewSettlement``."""
    settlement: object
    created: bool
    person: object = None           # a ScannedPerson
    counter: object = None          # deductible_used_fen and fund_paid_fen after this bill
    lines: list | None = None       # (benefits.Line, description) as billed
    regions: dict | None = None     # registry_cache.RegionValues by code
    balance_after_fen: int | None = None  # the personal account after this bill, when it paid


@dataclass
class ScannedPerson:
    """The fields of the scanned ``Person`` a settlement reads (one Core read, no ORM object)."""
    id: int
    status: str
    home_region: str
    insurance_class: str
    personal_account_fen: int
    name: str

    masked_name = Person.masked_name


@dataclass
class NewSettlement:
    """A settlement row as inserted by ``settle_at_counter`` (Core, no ORM object): the columns
    of ``Settlement`` that describe(), the receipt, the rules, the metrics and the audit read."""
    id: int
    kind: str
    institution_code: str
    person_id: int
    insured_region: str
    treating_region: str
    cashier_account_id: int
    credential_jti: str
    code_step: int
    idempotency_key: str
    request_hash: str
    year: int
    created_at: datetime
    total_fen: int
    fund_fen: int
    personal_account_fen: int
    cash_fen: int
    deductible_fen: int
    class_b_self_fen: int
    class_c_fen: int
    coinsurance_fen: int
    reverses_id: None = None
    reason: None = None


def settle(session, store, **arguments):
    """Return (settlement, created), the settlement as an ORM object. Runs in the caller's
    transaction; commits nothing."""
    done = settle_at_counter(session, store, **arguments)
    if not done.created:
        return done.settlement, False
    return session.get(Settlement, done.settlement.id), True


def settle_at_counter(session, store, *, scan_id, institution_code, cashier_id, raw_lines,
                      idempotency_key, now, use_account=True, registry=None):
    """Settle a scanned bill (a ``Settled``). With ``registry`` (a ``RegistryCache``) the
    regions and policies come from the worker's memory, checked against the registry's version
    read with the Idempotency-Key; without, they are read from the database."""
    key = check_idempotency_key(idempotency_key)
    lines = parse_lines(raw_lines)
    digest = _request_hash(scan_id, lines, use_account)
    try:  # read before the key, so the key, the credential and the person take one statement
        scan, unreachable = _scan_or_none(store, scan_id, institution_code), None
    except RedisError as error:  # a retry of a bill already made is answered without Redis
        scan, unreachable = None, error
    year = _year_of(now)
    lock = session.get_bind().dialect.name == "postgresql"
    found, version, credential_live, *person_row = _FIRST_READ[lock].one(session, {
        "institution": institution_code, "key": key, "r_jti": scan["jti"] if scan else None,
        "r_person_id": scan["person_id"] if scan else None, "r_year": year,
        "r_manual": bool(scan and scan.get("manual"))})
    person_row, counted = person_row[:len(_SCANNED_FIELDS)], person_row[len(_SCANNED_FIELDS):]
    if found is not None:
        earlier = session.get(Settlement, found)
        check_same_request(earlier.request_hash, digest)
        return Settled(earlier, False)
    if unreachable is not None:
        raise unreachable
    person = _payer(scan, credential_live, person_row)
    institution = _accepting(session, institution_code)
    regions = (registry or RegistryCache()).regions(session.connection(), version)
    policy = regions[person.home_region].policy_for(person.insurance_class)
    # Take the person's counter row first (a write: SQLite's lock, PostgreSQL's row lock), so two
    # settlements of one person never read the same counters. On PostgreSQL the first read took
    # it already.
    counter = LockedCounter(person.id, year, *counted) if counted and counted[0] is not None \
        else _lock_counter(session, person.id, year)
    if counter is None:
        _ensure_counter(session, person.id, year)
        counter = session.scalars(select(BenefitCounter).filter_by(
            person_id=person.id, year=year).with_for_update()).one()
    split = benefits.settle(policy, institution.level, [line for line, _ in lines], counter,
                            person.personal_account_fen, use_account)
    values = dict(
        kind="settlement", institution_code=institution_code, person_id=person.id,
        insured_region=person.home_region, treating_region=institution.region_code,
        cashier_account_id=cashier_id, credential_jti=scan["jti"], code_step=scan["step"],
        idempotency_key=key, request_hash=digest, year=year, created_at=at(now),
        **_amounts(split, 1))
    try:
        settlement_id, balance = _write_bill(session, values, lines, counter, split)
    except IntegrityError:  # the Idempotency-Key, or the code, has paid already
        session.rollback()
        earlier = _by_key(session, institution_code, key)
        if earlier is not None:
            check_same_request(earlier.request_hash, digest)
            return Settled(earlier, False)
        raise Conflict("This code has already paid a bill. Ask the patient for a fresh code.",
                       code="code_already_settled") from None
    settlement = NewSettlement(id=settlement_id, **values)
    rules.check_settlement(session, settlement,
                           threshold=regions[settlement.insured_region].audit_bill_threshold_fen)
    if scan.get("manual"):  # found by national ID number, no code (counter/identify.py)
        rules.flag_manual_identification(session, settlement, scan["manual"])
    return Settled(settlement, True, person=person, counter=counter, lines=lines, regions=regions,
                   balance_after_fen=balance)


def _payer(scan, credential_live, person_row):
    """The scanned person (a ScannedPerson), if the scan is still remembered and may still pay
    (``_may_pay``), from what ``_FIRST_READ`` read."""
    if scan is None:
        raise _scan_expired()
    person = ScannedPerson(*person_row)
    _may_pay(scan, credential_live, person.status)
    return person


def _write_bill(session, values, lines, counter, split):
    """Write a new bill: the settlement row (Core, not an ORM object: nothing reads it back but
    this request), its lines, the counters and the personal account. Returns (the settlement's
    id, the balance after it or None when the account did not pay); an IntegrityError when the
    Idempotency-Key or the code has paid already."""
    if isinstance(counter, LockedCounter) and session.get_bind().dialect.name == "postgresql":
        return _write_bill_at_once(session, values, lines, counter, split)
    settlement_id = session.connection().execute(_SETTLEMENT_INSERT, values).scalar_one()
    # The lines in one multi-row Core INSERT, not an ORM object each (``settlement.lines`` loads
    # them when read).
    session.connection().execute(insert(SettlementLine), [
        {"settlement_id": settlement_id, "category": line.category,
         "coverage_class": line.coverage_class, "description": text, "amount_fen": line.amount_fen}
        for line, text in lines])
    return settlement_id, _move(session, values["person_id"], counter, split, 1)


def _write_bill_at_once(session, values, lines, counter, split):
    """``_write_bill`` on PostgreSQL: one statement (data-modifying CTEs, each run once and to
    the end whether read or not) instead of four."""
    counter.deductible_used_fen += split.deductible_fen
    counter.fund_paid_fen += split.fund_fen
    parameters = {
        **{f"s_{name}": value for name, value in values.items()},
        "line_categories": [line.category for line, _ in lines],
        "line_classes": [line.coverage_class for line, _ in lines],
        "line_descriptions": [text for _, text in lines],
        "line_amounts": [line.amount_fen for line, _ in lines],
        "b_person_id": counter.person_id, "b_year": counter.year,
        "b_deductible_used_fen": counter.deductible_used_fen,
        "b_fund_paid_fen": counter.fund_paid_fen}
    if not split.personal_account_fen:
        return _BILL_WRITE.one(session, parameters)[0], None
    parameters.update(b_id=values["person_id"], b_amount=split.personal_account_fen,
                      b_updated_at=utcnow())
    settlement_id, balance = _BILL_WRITE_AND_DEBIT.one(session, parameters)
    if balance is None:
        raise Conflict("The personal account changed meanwhile; preview again.",
                       code="account_changed")
    _note_balance(session, values["person_id"], balance)
    return settlement_id, balance


_SETTLEMENT_INSERT = insert(Settlement).returning(Settlement.id)


def _bill_write(debit):
    """The statement of ``_write_bill_at_once``: the settlement, its lines in the bill's order
    (unnest of one array per column), the counters, and with ``debit`` the personal account;
    it answers the settlement's id and the balance after the debit (NULL when the account no
    longer covers it)."""
    columns = [column.key for column in Settlement.__table__.columns if column.key not in (
        "id", "reverses_id", "reason")]
    # Parameters named after no column ("s_", "line_", "b_"): SQLAlchemy adds a parameter that
    # has a column's name to the SET of an UPDATE it compiles, in a CTE too.
    settlement = (insert(Settlement).values({name: bindparam(f"s_{name}") for name in columns})
                  .returning(Settlement.id).cte("new_settlement"))
    line = func.unnest(*(bindparam(f"line_{name}", type_=ARRAY(kind)) for name, kind in (
        ("categories", String), ("classes", String), ("descriptions", String),
        ("amounts", BigInteger)))).table_valued(
        "category", "coverage_class", "description", "amount_fen",
        with_ordinality="position").render_derived()
    new_lines = insert(SettlementLine).from_select(
        ["settlement_id", "category", "coverage_class", "description", "amount_fen"],
        select(settlement.c.id, line.c.category, line.c.coverage_class, line.c.description,
               line.c.amount_fen).select_from(settlement.join(line, true()))
        .order_by(line.c.position)).cte("new_lines")
    writes = [new_lines, _COUNTER_WRITE.cte("counter_write")]
    if debit:
        debited = _ACCOUNT_WRITE.cte("account_debit")
        return select(settlement.c.id, select(debited.c.personal_account_fen).scalar_subquery()) \
            .add_cte(*writes)
    return select(settlement.c.id).add_cte(*writes)


def refund(session, *, settlement_id, institution_code, cashier_id, reason, now,
           idempotency_key=None):
    """Return (reversal, created). With an Idempotency-Key, a retry gets the first refund back and
    the same key for another refund is refused; without one, a second refund is a conflict."""
    key = check_idempotency_key(idempotency_key) if idempotency_key else None
    digest = fingerprint("refund", settlement_id=settlement_id,
                         reason=reason.strip() if isinstance(reason, str) else None)
    if key is not None:
        earlier = _by_key(session, institution_code, key)
        if earlier is not None:
            check_same_request(earlier.request_hash, digest)
            return earlier, False
    original = session.get(Settlement, settlement_id) if isinstance(settlement_id, int) else None
    if original is None or original.institution_code != institution_code \
            or original.kind != "settlement":
        raise NotFound("No such settlement at this institution.", code="settlement_not_found")
    if session.get(InpatientSettlement, original.id) is not None:  # docs/inpatient.md
        raise Conflict("A discharge settlement is reversed on its stay (inpatient desk).",
                       code="inpatient_settlement")
    if not isinstance(reason, str) or not reason.strip():
        raise ValidationFailed("Say why the bill is refunded.", code="reason_required")
    created = original.created_at.replace(tzinfo=original.created_at.tzinfo or timezone.utc)
    if created.astimezone(CHINA).date() != datetime.fromtimestamp(now, CHINA).date():
        raise Forbidden("Only a same-day refund is possible at the counter.",
                        code="refund_not_same_day")
    _ensure_counter(session, original.person_id, original.year)
    counter = session.scalars(select(BenefitCounter).filter_by(
        person_id=original.person_id, year=original.year).with_for_update()).one()
    reversal = Settlement(
        kind="refund", institution_code=institution_code, person_id=original.person_id,
        insured_region=original.insured_region, treating_region=original.treating_region,
        cashier_account_id=cashier_id, idempotency_key=key or f"refund:{original.id}",
        request_hash=digest,
        reverses_id=original.id, year=original.year, reason=reason.strip()[:200],
        created_at=at(now), **_amounts(original, -1))
    session.add(reversal)
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        earlier = _by_key(session, institution_code, key) if key is not None else None
        if earlier is not None:  # the same refund raced in from a retry: theirs won
            check_same_request(earlier.request_hash, digest)
            return earlier, False
        raise Conflict("This settlement was already refunded.", code="already_refunded") from None
    _move(session, original.person_id, counter, original, -1)
    return reversal, True


_AMOUNTS = ("total_fen", "fund_fen", "personal_account_fen", "cash_fen", "deductible_fen",
            "class_b_self_fen", "class_c_fen", "coinsurance_fen")


def _amounts(source, sign):
    return {name: sign * getattr(source, name) for name in _AMOUNTS}


def _move(session, person_id, counter, amounts, sign, person=None):
    """Counters and the personal account follow the settlement (or its reversal). Returns the
    personal account's balance after it when it moved (read in the same UPDATE, and set on
    ``person`` if given), else None."""
    counter.deductible_used_fen += sign * amounts.deductible_fen
    counter.fund_paid_fen += sign * amounts.fund_fen
    if isinstance(counter, LockedCounter):  # not an ORM object: written here
        session.connection().execute(_COUNTER_WRITE, {
            "b_person_id": counter.person_id, "b_year": counter.year,
            "b_deductible_used_fen": counter.deductible_used_fen,
            "b_fund_paid_fen": counter.fund_paid_fen})
    balance = None
    if amounts.personal_account_fen:
        balance = debit_personal_account(session, person_id, sign * amounts.personal_account_fen,
                                         person=person)
    session.flush()
    return balance


def debit_personal_account(session, person_id, amount_fen, person=None):
    """Take ``amount_fen`` (negative: give back) from the person's personal account, never below
    zero, in one UPDATE that returns the balance after it (the counter's and the inpatient desk's
    settlements and reversals). Core, not the ORM's bulk UPDATE (its synchronisation cost more
    than the statement); the person, if loaded in this session, gets the new balance."""
    after = session.connection().execute(
        _ACCOUNT_WRITE, {"b_id": person_id, "b_amount": amount_fen, "b_updated_at": utcnow()}).all()
    if len(after) != 1:
        raise Conflict("The personal account changed meanwhile; preview again.",
                       code="account_changed")
    _note_balance(session, person_id, after[0][0], person)
    return after[0][0]


def _note_balance(session, person_id, balance, person=None):
    """The person, if loaded in this session, gets the balance the database answered."""
    if person is None:
        person = session.identity_map.get(identity_key(Person, person_id))
    if person is not None:
        set_committed_value(person, "personal_account_fen", balance)


_PERSONS = Person.__table__
_ACCOUNT_WRITE = (update(_PERSONS)
                  .where(_PERSONS.c.id == bindparam("b_id"),
                         _PERSONS.c.personal_account_fen >= bindparam("b_amount"))
                  .values(personal_account_fen=_PERSONS.c.personal_account_fen - bindparam("b_amount"),
                          updated_at=bindparam("b_updated_at"))
                  .returning(_PERSONS.c.personal_account_fen))


@dataclass
class LockedCounter:
    """A person's benefit counters of a year, read and locked in one statement (``_lock_counter``)."""
    person_id: int
    year: int
    deductible_used_fen: int
    fund_paid_fen: int


_COUNTER_WRITE = (update(BenefitCounter)
                  .where(BenefitCounter.person_id == bindparam("b_person_id"),
                         BenefitCounter.year == bindparam("b_year"))
                  .values(deductible_used_fen=bindparam("b_deductible_used_fen"),
                          fund_paid_fen=bindparam("b_fund_paid_fen")))


_BILL_WRITE = Hot(_bill_write(debit=False))
_BILL_WRITE_AND_DEBIT = Hot(_bill_write(debit=True))


def _counter_upsert(dialect):
    statement = dialect.insert(BenefitCounter)
    return (statement.on_conflict_do_update(index_elements=["person_id", "year"],
                                            set_={"year": statement.excluded.year})
            .returning(BenefitCounter.deductible_used_fen, BenefitCounter.fund_paid_fen))


_COUNTER_LOCK = {"postgresql": _counter_upsert(postgresql), "sqlite": _counter_upsert(sqlite)}


def _lock_counter(session, person_id, year):
    """The person's counter row of ``year``, made if missing and locked (PostgreSQL: the row
    lock of ON CONFLICT DO UPDATE; SQLite: the write lock), in one statement: a LockedCounter.
    None on other databases (the caller ensures, locks and reads it in three)."""
    statement = _COUNTER_LOCK.get(session.get_bind().dialect.name)
    if statement is None:
        return None
    row = session.connection().execute(statement, {
        "person_id": person_id, "year": year, "deductible_used_fen": 0, "fund_paid_fen": 0}).one()
    return LockedCounter(person_id, year, row[0], row[1])


_COUNTER_INSERT = {name: dialect.insert(BenefitCounter).on_conflict_do_nothing()
                   for name, dialect in (("postgresql", postgresql), ("sqlite", sqlite))}


def _ensure_counter(session, person_id, year):
    """The person's counter row exists after this. On PostgreSQL and SQLite one INSERT that does
    nothing when the row is there (on SQLite it still takes the write lock, so two settlements of
    one person never read the same counters); the caller then locks and reads it."""
    statement = _COUNTER_INSERT.get(session.get_bind().dialect.name)
    values = {"person_id": person_id, "year": year, "deductible_used_fen": 0, "fund_paid_fen": 0}
    if statement is not None:
        session.connection().execute(statement, values)
    elif session.get(BenefitCounter, (person_id, year)) is None:
        try:
            with session.begin_nested():
                session.execute(insert(BenefitCounter).values(**values))
        except IntegrityError:
            pass  # another settlement created it first
    else:  # a harmless write, so the database takes its write lock before we read
        session.execute(update(BenefitCounter).filter_by(person_id=person_id, year=year)
                        .values(year=year))


_BY_KEY = (select(Settlement.id).where(Settlement.institution_code == bindparam("institution"),
                                       Settlement.idempotency_key == bindparam("key")))


_SCANNED_FIELDS = ("id", "status", "home_region", "insurance_class", "personal_account_fen", "name")
_CREDENTIAL_LIVE = exists().where(Credential.jti == bindparam("r_jti"),
                                  Credential.revoked_at.is_(None))


def _first_read(lock):
    """The Idempotency-Key's settlement, the registry's version, whether the scan's credential is
    still unrevoked, and the scanned person, in one statement (the person's columns are NULL when
    the scan is gone: the key must still answer a retry). With ``lock`` (PostgreSQL) the same
    statement makes, locks and reads the person's counter row of the year (``_lock_counter``'s
    upsert, in a CTE) when, and only when, the bill may be paid: no settlement under the key, the
    credential live (or a manual identification), the person active."""
    person = select(literal(1).label("one")).subquery().outerjoin(
        _PERSONS, _PERSONS.c.id == bindparam("r_person_id"))
    columns = [_BY_KEY.scalar_subquery(), VERSION, _CREDENTIAL_LIVE,
               *(_PERSONS.c[name] for name in _SCANNED_FIELDS)]
    if not lock:
        return select(*columns).select_from(person)
    upsert = postgresql.insert(BenefitCounter).from_select(
        ["person_id", "year", "deductible_used_fen", "fund_paid_fen"],
        select(_PERSONS.c.id, bindparam("r_year", type_=BenefitCounter.year.type),
               literal(0, BigInteger), literal(0, BigInteger))
        .where(_PERSONS.c.id == bindparam("r_person_id"), _PERSONS.c.status == "active",
               ~_BY_KEY.exists(), bindparam("r_manual", type_=Boolean) | _CREDENTIAL_LIVE))
    locked = (upsert.on_conflict_do_update(index_elements=["person_id", "year"],
                                           set_={"year": upsert.excluded.year})
              .returning(BenefitCounter.deductible_used_fen, BenefitCounter.fund_paid_fen)
              .cte("locked_counter"))
    return select(*columns, select(locked.c.deductible_used_fen).scalar_subquery(),
                  select(locked.c.fund_paid_fen).scalar_subquery()).select_from(person)


_FIRST_READ = {False: Hot(_first_read(lock=False)), True: Hot(_first_read(lock=True))}


def _by_key(session, institution_code, key):
    """The settlement (or refund) an Idempotency-Key already made, or None: a Core read of its id
    (the usual answer is None), the ORM object only when there is one."""
    found = session.connection().execute(_BY_KEY, {"institution": institution_code,
                                                   "key": key}).scalar()
    return None if found is None else session.get(Settlement, found)


def describe(settlement, lines=None):
    """The settlement as the API shows it; ``lines`` ((benefits.Line, description) as billed)
    spare the lines' query when the caller has them."""
    return {
        "id": settlement.id, "kind": settlement.kind, "institution": settlement.institution_code,
        "insured_region": settlement.insured_region, "treating_region": settlement.treating_region,
        "cross_region": settlement.insured_region != settlement.treating_region,
        "year": settlement.year, "created_at": settlement.created_at.isoformat(),
        "reverses": settlement.reverses_id, "reason": settlement.reason,
        **{name: getattr(settlement, name) for name in _AMOUNTS},
        "lines": line_dicts(settlement, lines),
    }


def line_dicts(settlement, lines=None):
    if lines is not None:
        return [{"category": line.category, "coverage_class": line.coverage_class,
                 "description": text, "amount_fen": line.amount_fen} for line, text in lines]
    return [{"category": line.category, "coverage_class": line.coverage_class,
             "description": line.description, "amount_fen": line.amount_fen}
            for line in settlement.lines]
