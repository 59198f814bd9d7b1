"""Settling a bill at the counter, and refunding it. One transaction each; idempotent.

A scan (an online-verified code) is remembered in Redis for a while, so a cashier can type the bill
after scanning. Settling takes the scan, the bill and an Idempotency-Key: the same key returns the
same settlement; the same code cannot settle twice (a database unique key stands behind it)."""
import json
import secrets
from datetime import datetime, timezone

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError

from ..models import BenefitCounter, Credential, Institution, Person, Settlement, SettlementLine
from ..models.base import CHINA, at
from ..oversight import rules
from ..service.errors import Conflict, Forbidden, NotFound, ValidationFailed, YimaError
from ..service.idempotency import check_idempotency_key, check_same_request, fingerprint
from ..tokens.errors import Revoked
from . import benefits

SCAN_TTL = 900
MAX_LINES, MAX_LINE_FEN = 100, 100_000_000  # ¥1,000,000 a line is already absurd for outpatients


def new_scan(*, jti, step, person_id, institution_code, cashier_id):
    """A scan to remember: its id and the Redis (key, value, seconds) that hold it."""
    scan_id = secrets.token_urlsafe(12)
    return scan_id, (f"scan:{scan_id}", json.dumps({
        "jti": jti, "step": step, "person_id": person_id,
        "institution": institution_code, "cashier": cashier_id}), SCAN_TTL)


def _scanned_person(session, scan):
    """The person of a scan, if the scan may still pay: between the scan and the bill the phone
    may be reported lost (its credential revoked) or the person's registry entry suspended."""
    credential = None if scan.get("manual") else session.get(Credential, scan["jti"])
    if not scan.get("manual") and (credential is None or credential.revoked_at is not None):
        raise Revoked("The credential was revoked after the scan.")  # (identify.py: no code)
    person = session.get(Person, scan["person_id"])
    if person.status != "active":
        raise Forbidden("This person's insurance is suspended.", code="person_suspended")
    return person


def _scan(store, scan_id, institution_code):
    raw = store.get(f"scan:{scan_id}") if isinstance(scan_id, str) and len(scan_id) < 40 else None
    scan = json.loads(raw) if raw else None
    if scan is None or scan["institution"] != institution_code:
        raise YimaError("Scan the patient's code again (a scan is good for 15 minutes).",
                        code="scan_expired", status=409, title="Scan expired")
    return scan


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


def _compute(session, person, institution, lines, now, use_account, lock=False):
    policy = person.region.policy_for(person.insurance_class)
    counter_query = select(BenefitCounter).filter_by(person_id=person.id, year=_year_of(now))
    counter = session.scalars(counter_query.with_for_update() if lock else counter_query).first()
    so_far = benefits.YearSoFar(counter.deductible_used_fen, counter.fund_paid_fen) if counter \
        else benefits.YearSoFar()
    split = benefits.settle(policy, institution.level, [line for line, _ in lines], so_far,
                            person.personal_account_fen, use_account)
    return split, counter


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
    split, _ = _compute(session, person, institution, parse_lines(raw_lines), now, use_account)
    return person, split


def settle(session, store, *, scan_id, institution_code, cashier_id, raw_lines, idempotency_key,
           now, use_account=True):
    """Return (settlement, created). Runs in the caller's transaction; commits nothing."""
    key = check_idempotency_key(idempotency_key)
    lines = parse_lines(raw_lines)
    digest = _request_hash(scan_id, lines, use_account)
    earlier = _by_key(session, institution_code, key)
    if earlier is not None:
        check_same_request(earlier.request_hash, digest)
        return earlier, False
    scan = _scan(store, scan_id, institution_code)
    person = _scanned_person(session, scan)
    institution = _accepting(session, institution_code)
    year = _year_of(now)
    # Take the person's counter row first (a write: SQLite's lock, PostgreSQL's row lock), so two
    # settlements of one person never read the same counters.
    _ensure_counter(session, person.id, year)
    split, counter = _compute(session, person, institution, lines, now, use_account, lock=True)
    settlement = Settlement(
        kind="settlement", institution_code=institution_code, person_id=person.id,
        insured_region=person.home_region, treating_region=institution.region_code,
        cashier_account_id=cashier_id, credential_jti=scan["jti"], code_step=scan["step"],
        idempotency_key=key, request_hash=digest, year=year, created_at=at(now),
        **_amounts(split, 1))
    settlement.lines = [SettlementLine(category=line.category, coverage_class=line.coverage_class,
                                       description=text, amount_fen=line.amount_fen)
                        for line, text in lines]
    session.add(settlement)
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        earlier = _by_key(session, institution_code, key)
        if earlier is not None:
            check_same_request(earlier.request_hash, digest)
            return earlier, False
        raise Conflict("This code has already paid a bill. Ask the patient for a fresh code.",
                       code="code_already_settled") from None
    _move(session, person.id, counter, split, 1)
    rules.check_settlement(session, settlement)
    if scan.get("manual"):  # found by national ID number, no code (counter/identify.py)
        rules.flag_manual_identification(session, settlement, scan["manual"])
    return settlement, True


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


def _move(session, person_id, counter, amounts, sign):
    """Counters and the personal account follow the settlement (or its reversal)."""
    counter.deductible_used_fen += sign * amounts.deductible_fen
    counter.fund_paid_fen += sign * amounts.fund_fen
    if amounts.personal_account_fen:
        changed = session.execute(
            update(Person).where(Person.id == person_id,
                                 Person.personal_account_fen >= sign * amounts.personal_account_fen)
            .values(personal_account_fen=Person.personal_account_fen
                    - sign * amounts.personal_account_fen)).rowcount
        if changed != 1:
            raise Conflict("The personal account changed meanwhile; preview again.",
                           code="account_changed")
    session.flush()


def _ensure_counter(session, person_id, year):
    if session.get(BenefitCounter, (person_id, year)) is None:
        try:
            with session.begin_nested():
                session.execute(insert(BenefitCounter).values(
                    person_id=person_id, year=year, deductible_used_fen=0, fund_paid_fen=0))
        except IntegrityError:
            pass  # another settlement created it first
    else:  # a harmless write, so SQLite takes its write lock before we read
        session.execute(update(BenefitCounter).filter_by(person_id=person_id, year=year)
                        .values(year=year))


def _by_key(session, institution_code, key):
    return session.scalars(select(Settlement).filter_by(institution_code=institution_code,
                                                        idempotency_key=key)).first()


def describe(settlement):
    return {
        "id": settlement.id, "kind": settlement.kind, "institution": settlement.institution_code,
        "insured_region": settlement.insured_region, "treating_region": settlement.treating_region,
        "cross_region": settlement.insured_region != settlement.treating_region,
        "year": settlement.year, "created_at": settlement.created_at.isoformat(),
        "reverses": settlement.reverses_id, "reason": settlement.reason,
        **{name: getattr(settlement, name) for name in _AMOUNTS},
        "lines": [{"category": line.category, "coverage_class": line.coverage_class,
                   "description": line.description, "amount_fen": line.amount_fen}
                  for line in settlement.lines],
    }
