"""Admission (入院登记) by a scanned e-voucher or the no-phone identification, and the stay's fee
lines (费用明细): numbered by the hospital within the stay, so a line sent again is stored once;
cancelled until discharge. No Flask; the caller commits."""
import re
from datetime import date, datetime, timedelta
from types import SimpleNamespace

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from ..counter import settlements as counter
from ..counter.receipts import china_time, institution_names, region_names, staff_name
from ..models import Account, FeeLine, Institution, Person, Region, Stay
from ..models.base import CHINA, at
from ..models.inpatient import INPATIENT_CATEGORIES
from ..service.errors import Conflict, NotFound, ValidationFailed
from ..service.idempotency import fingerprint

MAX_LINES_PER_CALL = 500
MAX_LINE_FEN = 100_000_000  # ¥1,000,000
MAX_QUANTITY = 100_000
MAX_LINE_NO = 99_999
ADMISSION_BACKDATE_DAYS = 7
_ADMISSION_NO = re.compile(r"^[A-Za-z0-9_-]{1,30}$")
_ICD10 = re.compile(r"^[A-Z][0-9]{2}(\.[0-9A-Z]{1,4})?$")


def china_today(now):
    return datetime.fromtimestamp(now, CHINA).date()


def parse_date(text, field, *, default=None):
    """A China calendar day ``YYYY-MM-DD`` (``default`` when absent)."""
    if text is None and default is not None:
        return default
    try:
        return date.fromisoformat(text) if isinstance(text, str) and len(text) == 10 else None
    except ValueError:
        pass
    raise ValidationFailed(f"{field} is a day like 2026-11-29.", code="bad_date",
                           extra={"field": field})


def _bad_date(field, detail):
    return ValidationFailed(detail, code="bad_date", extra={"field": field})


def _text(value, field, longest, pattern=None):
    text = value.strip() if isinstance(value, str) else ""
    if not text or len(text) > longest or (pattern and not pattern.match(text)) \
            or any(ord(ch) < 32 for ch in text):
        raise ValidationFailed(f"{field} is not valid.", code="bad_admission", extra={"field": field})
    return text


def own_stay(session, stay_id, institution_code):
    stay = session.get(Stay, stay_id) if isinstance(stay_id, int) else None
    if stay is None or stay.institution_code != institution_code:
        raise NotFound("No such stay at this institution.", code="stay_not_found")
    return stay


def admit(session, store, *, scan_id, institution_code, staff_id, admission_no, ward,
          diagnosis_code, diagnosis_text, admitted_on=None, now):
    """Return (stay, created). The same admission again (same number, same content) is answered
    with the first; another admission under a used number is refused."""
    admission_no = _text(admission_no, "admission_no", 30, _ADMISSION_NO)
    ward = _text(ward, "ward", 40)
    diagnosis_code = _text(diagnosis_code.upper() if isinstance(diagnosis_code, str) else None,
                           "diagnosis_code", 10, _ICD10)
    diagnosis_text = _text(diagnosis_text, "diagnosis_text", 100)
    today = china_today(now)
    day = parse_date(admitted_on, "admitted_on", default=today)
    if not today - timedelta(days=ADMISSION_BACKDATE_DAYS) <= day <= today:
        raise _bad_date("admitted_on", "The admission day is today or up to 7 days back.")
    digest = fingerprint("admit", scan_id=scan_id, admission_no=admission_no, ward=ward,
                         diagnosis=[diagnosis_code, diagnosis_text], admitted_on=day.isoformat())
    earlier = _by_number(session, institution_code, admission_no)
    if earlier is not None:
        return _same_admission(earlier, digest), False
    scan = counter._scan(store, scan_id, institution_code)
    person = counter._scanned_person(session, scan)
    institution = counter._accepting(session, institution_code)
    if session.scalar(select(Stay.id).filter_by(person_id=person.id, status="open",
                                                institution_code=institution_code)) is not None:
        raise Conflict("This patient already has an open stay here.", code="already_admitted")
    stay = Stay(institution_code=institution_code, person_id=person.id,
                insured_region=person.home_region, treating_region=institution.region_code,
                admission_no=admission_no, ward=ward, diagnosis_code=diagnosis_code,
                diagnosis_text=diagnosis_text, admitted_on=day, status="open", settled_count=0,
                credential_jti=scan["jti"], code_step=scan["step"],
                manual_reason=(scan.get("manual") or None) and scan["manual"][:120],
                admitted_by=staff_id, request_hash=digest, created_at=at(now))
    session.add(stay)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:
        earlier = _by_number(session, institution_code, admission_no)
        if earlier is not None:  # the same admission raced in from a retry
            return _same_admission(earlier, digest), False
        raise Conflict("This code has already admitted a patient. Ask for a fresh code.",
                       code="code_already_used") from None
    return stay, True


def _by_number(session, institution_code, admission_no):
    return session.scalars(select(Stay).filter_by(institution_code=institution_code,
                                                  admission_no=admission_no)).first()


def _same_admission(earlier, digest):
    if earlier.request_hash != digest:
        raise Conflict("This admission number is already used at this institution.",
                       code="admission_no_taken")
    return earlier


def lock_open(session, stay):
    """Take the stay's row (SQLite's write lock, PostgreSQL's row lock) while it is open, so lines,
    cancellations and the discharge of one stay happen one after the other."""
    changed = session.execute(update(Stay).where(Stay.id == stay.id, Stay.status == "open")
                              .values(status="open")).rowcount
    session.refresh(stay)
    if changed != 1:
        raise Conflict("The stay is settled: reverse the discharge settlement first.",
                       code="stay_not_open")


def _bad_line(number, field, detail):
    return ValidationFailed(f"Line {number}: {detail}", code="bad_lines",
                            extra={"line_no": number, "field": field})


def _int(value, low, high):
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


def parse_line(raw, stay, today):
    """One fee line as sent: a dict of the stored fields, or a ``bad_lines`` problem."""
    if not isinstance(raw, dict):
        raise ValidationFailed("A fee line is an object.", code="bad_lines")
    number = raw.get("line_no")
    if not _int(number, 1, MAX_LINE_NO):
        raise _bad_line(None, "line_no", f"line_no is 1 to {MAX_LINE_NO}.")
    if raw.get("category") not in INPATIENT_CATEGORIES:
        raise _bad_line(number, "category", "unknown category.")
    if raw.get("coverage_class") not in ("A", "B", "C"):
        raise _bad_line(number, "coverage_class", "coverage class is A, B or C.")
    item = raw.get("item").strip() if isinstance(raw.get("item"), str) else ""
    if not item or len(item) > 80 or any(ord(ch) < 32 for ch in item):
        raise _bad_line(number, "item", "the item is 1 to 80 characters.")
    quantity, price = raw.get("quantity"), raw.get("unit_price_fen")
    if not _int(quantity, 1, MAX_QUANTITY):
        raise _bad_line(number, "quantity", f"quantity is a whole number, 1 to {MAX_QUANTITY}.")
    if not _int(price, 1, MAX_LINE_FEN) or quantity * price > MAX_LINE_FEN:
        raise _bad_line(number, "unit_price_fen", "the unit price is a positive number of fen, "
                        "a line at most ¥1,000,000.")
    try:
        day = parse_date(raw.get("date"), "date")
    except ValidationFailed:
        raise _bad_line(number, "date", "date is a day like 2026-11-29.") from None
    if not stay.admitted_on <= day <= today:
        raise _bad_line(number, "date", "the day is within the stay (admission to today).")
    return {"line_no": number, "category": raw["category"], "coverage_class": raw["coverage_class"],
            "item": item, "quantity": quantity, "unit_price_fen": price,
            "amount_fen": quantity * price, "service_date": day}


_CONTENT = ("category", "coverage_class", "item", "quantity", "unit_price_fen", "service_date")
_COLUMNS = ("stay_id", "line_no", "amount_fen", "added_by", "created_at") + _CONTENT


def add_lines(session, *, stay_id, institution_code, staff_id, raw_lines, now):
    """Add fee lines, all or nothing. Return (lines as stored, added, unchanged): a number already
    holding the same line is answered with it; with another line, ``line_number_conflict``.
    The lines are FeeLine rows (those stored before) or plain objects with the same fields."""
    stay = own_stay(session, stay_id, institution_code)
    if not isinstance(raw_lines, list) or not 1 <= len(raw_lines) <= MAX_LINES_PER_CALL:
        raise ValidationFailed(f"Send 1 to {MAX_LINES_PER_CALL} lines.", code="bad_lines")
    if stay.status != "open":
        lock_open(session, stay)  # raises stay_not_open
    parsed = [parse_line(raw, stay, china_today(now)) for raw in raw_lines]
    lock_open(session, stay)
    numbers = {line["line_no"] for line in parsed}
    stored = {line.line_no: line for line in session.scalars(
        select(FeeLine).filter(FeeLine.stay_id == stay.id, FeeLine.line_no.in_(numbers)))}
    answer, added, unchanged, fresh = [], 0, 0, {}
    for line in parsed:
        existing = stored.get(line["line_no"]) or fresh.get(line["line_no"])
        if existing is not None:
            if any(getattr(existing, name) != line[name] for name in _CONTENT):
                raise Conflict(f"Line number {line['line_no']} already holds another line.",
                               code="line_number_conflict", extra={"line_no": line["line_no"]})
            unchanged += existing in stored.values()
            answer.append(existing)
            continue
        row = SimpleNamespace(stay_id=stay.id, added_by=staff_id, created_at=at(now),
                              cancelled_at=None, cancelled_by=None, cancel_reason=None, **line)
        fresh[line["line_no"]] = row
        answer.append(row)
        added += 1
    if fresh:  # one multi-row INSERT: a hospital system sends hundreds of lines at once
        session.execute(insert(FeeLine), [
            {name: getattr(row, name) for name in _COLUMNS} for row in fresh.values()])
    session.flush()
    return answer, added, unchanged


def cancel_line(session, *, stay_id, institution_code, staff_id, line_no, reason, now):
    stay = own_stay(session, stay_id, institution_code)
    lock_open(session, stay)
    line = session.scalars(select(FeeLine).filter_by(stay_id=stay.id, line_no=line_no)).first() \
        if isinstance(line_no, int) else None
    if line is None:
        raise NotFound("No line with this number in the stay.", code="line_not_found")
    if line.cancelled_at is not None:
        raise Conflict("This line is already cancelled.", code="line_already_cancelled")
    if not isinstance(reason, str) or not reason.strip():
        raise ValidationFailed("Say why the line is cancelled.", code="reason_required")
    line.cancelled_at, line.cancelled_by, line.cancel_reason = at(now), staff_id, reason.strip()[:200]
    session.flush()
    return line


def cancel_admission(session, *, stay_id, institution_code):
    """入院撤销 (the national interface's 2404): an admission registered by mistake goes away
    while it has no live fee line and was never settled; its cancelled lines go with it."""
    stay = own_stay(session, stay_id, institution_code)
    lock_open(session, stay)
    if stay.settled_count or live_lines(session, stay.id):
        raise Conflict("Only an admission with no fee lines and no settlement can be cancelled.",
                       code="stay_not_empty")
    session.execute(delete(FeeLine).where(FeeLine.stay_id == stay.id))
    session.delete(stay)
    session.flush()


def live_lines(session, stay_id):
    return list(session.scalars(select(FeeLine).filter(
        FeeLine.stay_id == stay_id, FeeLine.cancelled_at.is_(None)).order_by(FeeLine.line_no)))


def live_amounts(session, stay_id):
    """The live lines as rows of (id, category, coverage_class, amount_fen): what a settlement
    needs, without loading whole objects (a stay may have thousands)."""
    return session.execute(select(FeeLine.id, FeeLine.category, FeeLine.coverage_class,
                                  FeeLine.amount_fen)
                           .filter(FeeLine.stay_id == stay_id, FeeLine.cancelled_at.is_(None))
                           .order_by(FeeLine.line_no)).all()


def has_live_lines(session, stay_id):
    return session.scalar(select(FeeLine.id).filter(
        FeeLine.stay_id == stay_id, FeeLine.cancelled_at.is_(None)).limit(1)) is not None


def days_of(admitted_on, until):
    """Days in hospital: admission to discharge, a same-day stay counts one."""
    return max(1, (until - admitted_on).days)


def _sums(session, stay_ids):
    """Live lines per stay: count, total and by class."""
    sums = {stay_id: {"lines_count": 0, "total_fen": 0, "by_class": {"A": 0, "B": 0, "C": 0}}
            for stay_id in stay_ids}
    if not stay_ids:
        return sums
    query = (select(FeeLine.stay_id, FeeLine.coverage_class, func.count(), func.sum(FeeLine.amount_fen))
             .filter(FeeLine.stay_id.in_(list(stay_ids)), FeeLine.cancelled_at.is_(None))
             .group_by(FeeLine.stay_id, FeeLine.coverage_class))
    for stay_id, klass, count, amount in session.execute(query):
        entry = sums[stay_id]
        entry["lines_count"] += int(count)
        entry["total_fen"] += int(amount or 0)
        entry["by_class"][klass] = int(amount or 0)
    return sums


def describe_many(session, stays, now):
    sums = _sums(session, [stay.id for stay in stays])
    return [describe(session, stay, now, sums[stay.id]) for stay in stays]


def describe(session, stay, now, sums=None):
    sums = sums or _sums(session, [stay.id])[stay.id]
    person = session.get(Person, stay.person_id)
    return {
        "id": stay.id,
        "institution": institution_names(session.get(Institution, stay.institution_code)),
        "admission_no": stay.admission_no, "ward": stay.ward,
        "diagnosis": {"code": stay.diagnosis_code, "text": stay.diagnosis_text},
        "admitted_on": stay.admitted_on.isoformat(),
        "discharged_on": stay.discharged_on.isoformat() if stay.discharged_on else None,
        "days": days_of(stay.admitted_on, stay.discharged_on or china_today(now)),
        "status": stay.status,
        "patient": {"masked_name": person.masked_name(), "insurance_class": person.insurance_class},
        "insured_region": region_names(session.get(Region, stay.insured_region)),
        "treating_region": region_names(session.get(Region, stay.treating_region)),
        "cross_region": stay.insured_region != stay.treating_region,
        "identified_by": "national_id" if stay.manual_reason else "e_voucher",
        **sums,
        "settlement_id": stay.settlement_id,
        "admitted_by": staff_name(session.get(Account, stay.admitted_by)),
        "created_at": china_time(stay.created_at),
    }


def describe_line(session, line, names=None):
    names = names if names is not None else {}
    if line.added_by not in names:
        names[line.added_by] = staff_name(session.get(Account, line.added_by))
    return {"line_no": line.line_no, "category": line.category,
            "coverage_class": line.coverage_class, "item": line.item, "quantity": line.quantity,
            "unit_price_fen": line.unit_price_fen, "amount_fen": line.amount_fen,
            "date": line.service_date.isoformat(), "cancelled": line.cancelled_at is not None,
            "cancelled_at": china_time(line.cancelled_at) if line.cancelled_at else None,
            "cancel_reason": line.cancel_reason, "added_by": names[line.added_by]}


def list_stays(session, *, institution_code, status, now, limit=200):
    query = select(Stay).filter_by(institution_code=institution_code)
    if status in ("open", "settled"):
        query = query.filter(Stay.status == status)
    stays = list(session.scalars(query.order_by(Stay.id.desc()).limit(limit)))
    return describe_many(session, stays, now)


