"""Bulk import of insured persons from CSV: streamed, validated row by row, all-or-nothing.

Rows go into a staging table in the same transaction (COPY on PostgreSQL, batched inserts
elsewhere); one INSERT ... ON CONFLICT then merges them into ``persons``. Any bad row, or a person
listed twice, rolls everything back. Memory stays flat: nothing is kept per row but the counters.
Balances are opening balances: they are set for new persons and never overwritten by a re-import
(money changes only through the ledger)."""
import csv
import re
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import text

from ..models import Person, utcnow
from . import identity

REQUIRED = ("national_id", "name", "phone", "home_region", "insurance_class")
OPTIONAL = {
    "status": "active",
    "personal_account_fen": "0",
    "transit_wallet_fen": "0",
    "password_free_limit_fen": "0",
}
STAGE_COLUMNS = (
    "line_no", "holder_id", "national_id_hash", "national_id_masked", "name", "phone",
    "home_region", "insurance_class", "status", "personal_account_fen", "transit_wallet_fen",
    "password_free_limit_fen",
)
NOT_UTF8 = "the file is not valid UTF-8 text; save it as UTF-8 (CSV UTF-8) and import again"
_FEN = re.compile(r"^\d{1,13}$")
_CLASSES = {"employee", "resident"}
_STATUSES = {"active", "suspended"}


class BadFile(Exception):
    """The file as a whole cannot be read (no header, missing columns, not UTF-8)."""


@dataclass
class ImportReport:
    rows: int = 0
    inserted: int = 0
    updated: int = 0
    bad_rows: int = 0
    problems: list = field(default_factory=list)  # the first few (line, reason), for callers

    @property
    def ok(self):
        return self.bad_rows == 0


class RowChecker:
    """Turns one CSV record into a staging tuple, or raises ValueError with the reason."""

    def __init__(self, header, id_hash_key, region_codes, today=None):
        names = [h.strip().lower() for h in header]
        missing = [c for c in REQUIRED if c not in names]
        if missing:
            raise BadFile("missing column(s): " + ", ".join(missing))
        unknown = [n for n in names if n not in REQUIRED and n not in OPTIONAL]
        if unknown:
            raise BadFile("unknown column(s): " + ", ".join(unknown))
        self.index = {n: i for i, n in enumerate(names)}
        self.width = len(names)
        self.key = id_hash_key
        self.regions = set(region_codes)
        self.today = today or date.today()

    def _get(self, record, name):
        i = self.index.get(name)
        return OPTIONAL[name] if i is None else record[i].strip()

    def stage_row(self, line_no, record):
        if len(record) != self.width:
            raise ValueError(f"expected {self.width} fields, found {len(record)}")
        national_id = identity.normalise_national_id(self._get(record, "national_id"))
        name, phone = self._get(record, "name"), self._get(record, "phone")
        region, klass = self._get(record, "home_region"), self._get(record, "insurance_class")
        status = self._get(record, "status") or "active"
        reason = (identity.national_id_problem(national_id, self.today)
                  or identity.name_problem(name) or identity.phone_problem(phone))
        if reason:
            raise ValueError(reason)
        if region not in self.regions:
            raise ValueError(f"home_region: unknown region code {region!r}")
        if klass not in _CLASSES:
            raise ValueError("insurance_class: must be employee or resident")
        if status not in _STATUSES:
            raise ValueError("status: must be active or suspended")
        money = []
        for column in ("personal_account_fen", "transit_wallet_fen", "password_free_limit_fen"):
            value = self._get(record, column) or "0"
            if not _FEN.match(value):
                raise ValueError(f"{column}: must be a whole number of fen, 0 or more")
            money.append(int(value))
        return (line_no, identity.new_holder_id(), identity.hash_national_id(self.key, national_id),
                identity.mask_national_id(national_id), name, phone, region, klass, status, *money)


def import_persons(connection, stream, *, id_hash_key, on_problem, batch_size=5000, today=None):
    """Import CSV text from ``stream`` through the SQLAlchemy ``connection`` inside its open
    transaction. Calls ``on_problem(line_no, reason)`` for each bad row. The caller commits only
    when the report is ``ok``; otherwise it rolls back and nothing is imported."""
    report = ImportReport()
    reader = csv.reader(stream)
    try:
        header = next(reader)
    except StopIteration:
        raise BadFile("the file is empty") from None
    except UnicodeDecodeError:
        raise BadFile(NOT_UTF8) from None
    except csv.Error as error:
        raise BadFile(f"line 1: {error}") from None
    regions = connection.execute(text("SELECT code FROM regions")).scalars().all()
    checker = RowChecker(header, id_hash_key, regions, today)
    stage = _stage_for(connection, batch_size)

    def bad(line_no, reason):
        report.bad_rows += 1
        if len(report.problems) < 100:
            report.problems.append((line_no, reason))
        on_problem(line_no, reason)

    line_no = 1
    while True:
        try:
            record = next(reader)
        except StopIteration:
            break
        except UnicodeDecodeError:
            bad(reader.line_num + 1, NOT_UTF8 + " (at or after this line)")
            break
        except csv.Error as error:
            bad(reader.line_num, f"unreadable CSV: {error}")
            continue
        line_no = reader.line_num
        if not record or (len(record) == 1 and not record[0].strip()):
            continue  # blank line
        report.rows += 1
        try:
            row = checker.stage_row(line_no, record)
        except ValueError as error:
            bad(line_no, str(error))
            continue
        if report.ok:
            stage.add(row)  # once a row is bad nothing will be imported: just keep checking
    stage.flush()
    if report.ok:
        for line, first in _duplicates(connection):
            bad(line, f"national_id: the same person as line {first}")
    if report.ok:
        _merge(connection, report)
    stage.drop()
    return report


def _stage_for(connection, batch_size):
    if connection.dialect.name == "postgresql":
        return CopyStage(connection)
    return BatchStage(connection, batch_size)


class _Stage:
    def __init__(self, connection):
        self.connection = connection
        connection.execute(text(
            "CREATE TEMP TABLE registry_stage (line_no INTEGER, holder_id VARCHAR(22), "
            "national_id_hash VARCHAR(64), national_id_masked VARCHAR(18), name VARCHAR(64), "
            "phone VARCHAR(11), home_region VARCHAR(6), insurance_class VARCHAR(10), "
            "status VARCHAR(10), personal_account_fen BIGINT, transit_wallet_fen BIGINT, "
            "password_free_limit_fen BIGINT)"))

    def drop(self):
        self.connection.execute(text("DROP TABLE registry_stage"))


class BatchStage(_Stage):
    def __init__(self, connection, batch_size):
        super().__init__(connection)
        self.batch_size = batch_size
        self.rows = []
        self.statement = text(
            f"INSERT INTO registry_stage ({', '.join(STAGE_COLUMNS)}) VALUES "
            f"({', '.join(':' + c for c in STAGE_COLUMNS)})")

    def add(self, row):
        self.rows.append(dict(zip(STAGE_COLUMNS, row)))
        if len(self.rows) >= self.batch_size:
            self.flush()

    def flush(self):
        if self.rows:
            self.connection.execute(self.statement, self.rows)
            self.rows = []


class CopyStage(_Stage):
    """Streams rows into the staging table with COPY. Values never contain tabs, newlines or
    backslashes (the row checker refuses them), so the text format needs no escaping."""

    def __init__(self, connection):
        super().__init__(connection)
        cursor = connection.connection.driver_connection.cursor()
        self.copy_context = cursor.copy(
            f"COPY registry_stage ({', '.join(STAGE_COLUMNS)}) FROM STDIN")
        self.copy = self.copy_context.__enter__()
        self.buffer = []

    def add(self, row):
        self.buffer.append("\t".join(map(str, row)))
        if len(self.buffer) >= 2000:
            self._send()

    def _send(self):
        self.copy.write("\n".join(self.buffer) + "\n")
        self.buffer = []

    def flush(self):
        if self.copy_context is not None:
            if self.buffer:
                self._send()
            self.copy_context.__exit__(None, None, None)
            self.copy_context = None


def _duplicates(connection):
    return connection.execute(text(
        "SELECT line_no, first_line FROM (SELECT line_no, "
        "min(line_no) OVER (PARTITION BY national_id_hash) AS first_line FROM registry_stage) s "
        "WHERE line_no <> first_line ORDER BY line_no")).all()


def _merge(connection, report):
    count = text(f"SELECT count(*) FROM {Person.__tablename__}")
    before = connection.execute(count).scalar_one()
    columns = ", ".join(STAGE_COLUMNS[1:])
    updatable = ("national_id_masked", "name", "phone", "home_region", "insurance_class",
                 "status", "password_free_limit_fen", "updated_at")
    connection.execute(text(
        f"INSERT INTO persons ({columns}, created_at, updated_at) "
        f"SELECT {columns}, :now, :now FROM registry_stage WHERE true "
        "ON CONFLICT (national_id_hash) DO UPDATE SET "
        + ", ".join(f"{c} = excluded.{c}" for c in updatable)), {"now": utcnow()})
    report.inserted = connection.execute(count).scalar_one() - before
    report.updated = report.rows - report.inserted
