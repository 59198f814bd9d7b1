"""Bulk import of insured persons from CSV: streamed, validated row by row, all-or-nothing.

Rows go, a chunk at a time, into a staging table in the same transaction (COPY on PostgreSQL,
batched inserts elsewhere); every ``merge_chunks`` chunks (default: each chunk) an INSERT ... ON
CONFLICT merges what is staged into ``persons``, in national-ID-hash order. On PostgreSQL the
merge runs on a worker thread while Python checks the next chunk; larger merges (ten chunks) were
measured slower: Python, one chunk ahead at most, waits out each long merge. Any bad row, or a person listed twice, rolls everything back. Memory stays flat:
nothing is kept per row but the counters (the staged rows wait in the database, not in Python).
Balances are opening balances: they are set for new persons and never overwritten by a re-import
(money changes only through the ledger)."""
import base64
import csv
import queue
import re
import secrets
import threading
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from ..models import utcnow
from . import identity

REQUIRED = ("national_id", "name", "phone", "home_region", "insurance_class")
OPTIONAL = {
    "status": "active",
    "personal_account_fen": "0",
    "transit_wallet_fen": "0",
    "password_free_limit_fen": "0",
    "insured_since": "",  # YYYY-MM-DD; empty: unknown (the day of entry stands in)
}
STAGE_COLUMNS = (
    "line_no", "holder_id", "national_id_hash", "national_id_masked", "name", "phone",
    "home_region", "insurance_class", "status", "personal_account_fen", "transit_wallet_fen",
    "password_free_limit_fen", "insured_since",
)
NOT_UTF8 = "the file is not valid UTF-8 text; save it as UTF-8 (CSV UTF-8) and import again"
_FEN = re.compile(r"^\d{1,13}$")
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_MONEY_COLUMNS = ("personal_account_fen", "transit_wallet_fen", "password_free_limit_fen")
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
        index = {n: i for i, n in enumerate(names)}
        self.width = len(names)
        # Where each column is (the header is fixed): one list lookup per field, per row.
        self.at = tuple(index[c] for c in REQUIRED)
        self.status_at, self.since_at = index.get("status"), index.get("insured_since")
        self.money_at = tuple((c, index.get(c)) for c in _MONEY_COLUMNS)
        self.hash_id = identity.NationalIdHasher(id_hash_key)
        self.id_checker = identity.NationalIdChecker(today)
        self.regions = set(region_codes)
        self.holder_ids = _pseudonyms()

    def stage_row(self, line_no, record):
        if len(record) != self.width:
            raise ValueError(f"expected {self.width} fields, found {len(record)}")
        at_id, at_name, at_phone, at_region, at_class = self.at
        national_id = identity.normalise_national_id(record[at_id])
        name, phone = record[at_name].strip(), record[at_phone].strip()
        region, klass = record[at_region].strip(), record[at_class].strip()
        status = "active" if self.status_at is None else record[self.status_at].strip() or "active"
        reason = (self.id_checker.problem(national_id)
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
        for column, i in self.money_at:
            value = "0" if i is None else record[i].strip() or "0"
            if not _FEN.match(value):
                raise ValueError(f"{column}: must be a whole number of fen, 0 or more")
            money.append(int(value))
        since = None if self.since_at is None else record[self.since_at].strip() or None
        if since is not None:
            since = self._insured_since(since, national_id)
        return (line_no, next(self.holder_ids), self.hash_id(national_id),
                identity.mask_national_id(national_id), name, phone, region, klass, status, *money,
                since)

    def _insured_since(self, value, national_id):
        """A real day, not before the birth date inside the ID and not after today."""
        try:
            day = date.fromisoformat(value) if _DAY.match(value) else None
        except ValueError:
            day = None
        if day is None:
            raise ValueError("insured_since: must be a date written YYYY-MM-DD")
        born = f"{national_id[6:10]}-{national_id[10:12]}-{national_id[12:14]}"
        if value < born or day > self.id_checker.today:
            raise ValueError("insured_since: must lie between the birth date and today")
        return day


def _pseudonyms(batch=4096):
    """``identity.new_holder_id()`` for millions of rows: the same 8 random bytes in base64url
    each, drawn from the OS a batch at a time (one system call per batch, not per row)."""
    encode = base64.urlsafe_b64encode
    while True:
        pool = secrets.token_bytes(8 * batch)
        for i in range(0, 8 * batch, 8):
            yield encode(pool[i:i + 8])[:11].decode()


def import_persons(connection, stream, *, id_hash_key, on_problem, chunk_rows=100_000,
                   merge_chunks=1, today=None):
    """Import CSV text from ``stream`` through the SQLAlchemy ``connection`` inside its open
    transaction. Calls ``on_problem(line_no, reason)`` for each bad row. The caller commits only
    when the report is ``ok``; otherwise it rolls back and nothing is imported. ``chunk_rows``
    bounds what Python holds; ``merge_chunks`` chunks are staged in the database per merge."""
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
    count = text("SELECT count(*) FROM persons")
    before = connection.execute(count).scalar_one()
    loader = ChunkLoader(connection, chunk_rows, merge_chunks)
    # On PostgreSQL the server merges one chunk while Python checks the next (two cores busy).
    sink = BackgroundSink(loader) if connection.dialect.name == "postgresql" else loader

    def bad(line_no, reason):
        report.bad_rows += 1
        if len(report.problems) < 100:
            report.problems.append((line_no, reason))
        on_problem(line_no, reason)

    try:
        for line_no, record in _records(reader, bad):
            report.rows += 1
            try:
                row = checker.stage_row(line_no, record)
            except ValueError as error:
                bad(line_no, str(error))
                continue
            if report.ok:  # once a row is bad nothing will be imported: just keep checking
                sink.add(row)
    finally:
        sink.close(flush=report.ok)
    if report.ok and loader.duplicates:
        for line, first in _duplicates(connection):
            bad(line, f"national_id: the same person as line {first}")
    if report.ok:
        report.inserted = connection.execute(count).scalar_one() - before
        report.updated = report.rows - report.inserted
    loader.drop()
    return report


def _records(reader, bad):
    """(line number, fields) for each non-blank record; unreadable lines go to ``bad``."""
    while True:
        try:
            record = next(reader)
        except StopIteration:
            return
        except UnicodeDecodeError:
            bad(reader.line_num + 1, NOT_UTF8 + " (at or after this line)")
            return
        except csv.Error as error:
            bad(reader.line_num, f"unreadable CSV: {error}")
            continue
        if record and (len(record) > 1 or record[0].strip()):
            yield reader.line_num, record


class ChunkLoader:
    """Loads checked rows chunk by chunk into a temporary table and, every ``merge_chunks``
    chunks, merges what is staged into ``persons`` with INSERT ... ON CONFLICT. A row that meets a
    person an earlier merge of this import wrote is a duplicate: the merge skips it (its WHERE is
    false), and the import fails."""

    def __init__(self, connection, chunk_rows, merge_chunks=1):
        self.connection = connection
        self.chunk_rows = chunk_rows
        self.merge_chunks = max(1, merge_chunks)
        self.pending = []
        self.staged_chunks = self.staged_rows = 0
        self.run_at = utcnow()
        self.duplicates = False
        self.postgres = postgres = connection.dialect.name == "postgresql"
        # The hash sorts and is compared byte-wise, as in persons' index (OpaqueId is "C").
        collate = ' COLLATE "C"' if postgres else ""
        self.empty_stage = text("TRUNCATE registry_chunk" if postgres else "DELETE FROM registry_chunk")
        connection.execute(text(
            "CREATE TEMP TABLE registry_chunk (line_no INTEGER, holder_id VARCHAR(22), "
            f"national_id_hash VARCHAR(32){collate}, national_id_masked VARCHAR(18), "
            "name VARCHAR(64), phone VARCHAR(11), home_region VARCHAR(6), "
            "insurance_class VARCHAR(10), status VARCHAR(10), personal_account_fen BIGINT, "
            "transit_wallet_fen BIGINT, password_free_limit_fen BIGINT, insured_since DATE)"))
        # Every line's hash, unindexed, to name duplicates if there are any.
        connection.execute(text(
            "CREATE TEMP TABLE registry_lines (line_no INTEGER, national_id_hash VARCHAR(32))"))

    def add(self, row):
        self.pending.append(row)
        if len(self.pending) >= self.chunk_rows:
            self.submit(self.pending)
            self.pending = []

    def close(self, flush=True):
        if flush and self.pending:
            self.submit(self.pending)
        self.pending = []
        if flush:
            self.finish()

    def submit(self, rows):
        """Stage a list of checked rows, or (PostgreSQL) their COPY text; merge every
        ``merge_chunks`` chunks."""
        if isinstance(rows, ChunkText):
            self._copy(rows)
        else:
            self.connection.execute(_INSERT_CHUNK, [dict(zip(STAGE_COLUMNS, row)) for row in rows])
        self.staged_rows += len(rows)
        self.staged_chunks += 1
        if self.staged_chunks >= self.merge_chunks:
            self.finish()

    def finish(self):
        """Merge what is staged into ``persons`` and empty the stage."""
        if not self.staged_rows:
            return
        execute = self.connection.execute
        execute(text("INSERT INTO registry_lines SELECT line_no, national_id_hash "
                     "FROM registry_chunk"))
        if not self.duplicates:
            merged = self._merge() if self.postgres else self._merge_checked()
            self.duplicates = merged != self.staged_rows
        # TRUNCATE, not DELETE: deleted rows stay in the table until the transaction ends
        # (nothing vacuums them), and every later scan of the stage would read them again.
        execute(self.empty_stage)
        self.staged_chunks = self.staged_rows = 0

    def _merge(self):
        """PostgreSQL refuses an INSERT ... ON CONFLICT DO UPDATE that meets the same key twice
        (cardinality violation): that refusal is the check for a person listed twice within the
        stage, with no extra pass over it. Inside a savepoint, so the import can go on to name
        the lines."""
        savepoint = self.connection.begin_nested()
        try:
            merged = self.connection.execute(_MERGE, {"now": self.run_at}).rowcount
        except DBAPIError as error:
            savepoint.rollback()
            if getattr(error.orig, "sqlstate", None) != _CARDINALITY_VIOLATION:
                raise
            return -1
        savepoint.commit()
        return merged

    def _merge_checked(self):
        """Elsewhere (SQLite updates a row twice without complaint) duplicates are counted first."""
        within = self.connection.execute(text(
            "SELECT count(*) - count(DISTINCT national_id_hash) FROM registry_chunk")).scalar_one()
        return -1 if within else self.connection.execute(_MERGE, {"now": self.run_at}).rowcount

    def _copy(self, chunk):
        cursor = self.connection.connection.driver_connection.cursor()
        with cursor.copy(f"COPY registry_chunk ({', '.join(STAGE_COLUMNS)}) FROM STDIN") as copy:
            copy.write(chunk)

    def drop(self):
        self.connection.execute(text("DROP TABLE registry_chunk"))
        self.connection.execute(text("DROP TABLE registry_lines"))


class ChunkText(str):
    """Rows in COPY text format: a few bytes per row instead of a tuple of objects. Values never
    hold tabs, newlines or backslashes (the row checker refuses them), so no escaping is needed."""

    def __new__(cls, lines):
        chunk = super().__new__(cls, "".join(lines))
        chunk.rows = len(lines)
        return chunk

    def __len__(self):
        return self.rows


_FINISH = object()


class BackgroundSink:
    """Feeds chunks to a loader on a worker thread through a short queue (memory stays bounded).
    The worker waits on the database most of the time, so Python keeps checking rows meanwhile."""

    def __init__(self, loader):
        self.loader = loader
        self.lines = []
        self.error = None
        self.queue = queue.Queue(maxsize=1)
        self.thread = threading.Thread(target=self._work, name="registry-import", daemon=True)
        self.thread.start()

    def _work(self):
        while (chunk := self.queue.get()) is not None:
            if self.error is None:
                try:
                    if chunk is _FINISH:
                        self.loader.finish()
                    else:
                        self.loader.submit(chunk)
                except BaseException as error:  # handed to the importing thread in close()
                    self.error = error

    def add(self, row):
        since = row[-1]
        self.lines.append("\t".join(map(str, row[:-1]))
                          + ("\t\\N\n" if since is None else f"\t{since}\n"))
        if len(self.lines) >= self.loader.chunk_rows:
            self._send()

    def _send(self):
        if self.error is not None:
            raise self.error
        self.queue.put(ChunkText(self.lines))
        self.lines = []

    def close(self, flush=True):
        if flush and self.lines and self.error is None:
            self._send()
        if flush:
            self.queue.put(_FINISH)
        self.queue.put(None)
        self.thread.join()
        if self.error is not None:
            raise self.error


_INSERT_CHUNK = text(
    f"INSERT INTO registry_chunk ({', '.join(STAGE_COLUMNS)}) "
    f"VALUES ({', '.join(':' + c for c in STAGE_COLUMNS)})")
_CARDINALITY_VIOLATION = "21000"
_MERGE_COLUMNS = ", ".join(STAGE_COLUMNS[1:])
_UPDATABLE = ("national_id_masked", "name", "phone", "home_region", "insurance_class", "status",
              "password_free_limit_fen", "updated_at")
_MERGE = text(
    f"INSERT INTO persons ({_MERGE_COLUMNS}, created_at, updated_at) "
    f"SELECT {_MERGE_COLUMNS}, :now, :now FROM registry_chunk WHERE true ORDER BY national_id_hash "
    "ON CONFLICT (national_id_hash) DO UPDATE SET "
    + ", ".join(f"{c} = excluded.{c}" for c in _UPDATABLE)
    # A file without the column (or an empty cell) keeps what the registry knew.
    + ", insured_since = coalesce(excluded.insured_since, persons.insured_since)"
    + " WHERE persons.updated_at <> excluded.updated_at")


def _duplicates(connection):
    return connection.execute(text(
        "SELECT line_no, first_line FROM (SELECT line_no, "
        "min(line_no) OVER (PARTITION BY national_id_hash) AS first_line FROM registry_lines) s "
        "WHERE line_no <> first_line ORDER BY line_no")).all()
