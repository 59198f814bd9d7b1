"""Ride ingest's PostgreSQL path: a batch's checked rides are copied (COPY) into a per-connection
staging table, their persons locked, and every decision and write made by one set-based statement:
the same rules as ``rides._store`` (the path SQLite takes), the same rows, in the same order.

Three round trips per batch, whatever its size:
  COPY ride_stage            the checked rides (index, natural id, credential, step, time, day)
  SELECT … FOR NO KEY UPDATE the persons, in id order (as ``rides._lock_persons``)
  WITH … INSERT/UPDATE …     owners and revocations, duplicates, refusals, copies, the daily cap
                             and the wallet (window functions over the rides in ride order), then
                             rides, charges, ledger rows, flags, wallets and the deny list
The lock is its own statement on purpose: under READ COMMITTED the big statement's snapshot is
taken after the lock is granted, so it sees every ride a concurrent batch of the same persons
committed. The unique keys on rides and ride_charges stay the last word, as on the other path.
No Flask; time is a parameter."""
from ..models import Person
from ..models.base import at

_STAGE = ("CREATE TEMP TABLE IF NOT EXISTS ride_stage ("
          " idx integer NOT NULL, natural_id varchar(40) COLLATE \"C\" NOT NULL,"
          " jti varchar(11) COLLATE \"C\" NOT NULL, step integer NOT NULL,"
          " ridden bigint NOT NULL, day varchar(10) NOT NULL) ON COMMIT DELETE ROWS")

_LOCK = ("SELECT p.id FROM persons p WHERE p.id IN ("
         " SELECT c.person_id FROM credentials c JOIN ride_stage s ON s.jti = c.jti)"
         " ORDER BY p.id FOR NO KEY UPDATE OF p")

# The rules of rides._refusal, rides._fares, rides._write, rides._flag_detail and
# trust.review_arrears_of, as one statement. A flat fare f under a daily cap C with P already paid
# that day: after the k-th payable ride of the day LEAST(P + k f, GREATEST(P, C)) is paid, so the
# k-th ride's fare is the step between k - 1 and k.
_DECIDE_AND_WRITE = """
WITH src AS (
  SELECT s.idx, s.natural_id, s.jti, s.step, s.ridden, s.day, o.*, r.hit IS NOT NULL AS stored
  FROM ride_stage s
  -- Each ride looks up its owner and whether it is stored already through the unique indexes,
  -- a few probes a ride (LATERAL … LIMIT 1 keeps them probes): joined to whole tables, the
  -- planner hashed every credential, phone, person and ride on every batch, a cost that grew
  -- with the tables rather than with the batch.
  JOIN LATERAL (
    SELECT c.person_id,
           LEAST(floor(extract(epoch FROM c.revoked_at)),
                 floor(extract(epoch FROM d.revoked_at)))::bigint AS revoked_at,
           v.reason AS revoke_reason,
           p.status AS person_status, p.home_region, p.holder_id,
           p.transit_wallet_fen AS wallet, p.password_free_limit_fen AS free_limit
    FROM credentials c
    JOIN devices d ON d.id = c.device_id
    JOIN persons p ON p.id = c.person_id
    LEFT JOIN revocations v ON v.jti = c.jti
    WHERE c.jti = s.jti LIMIT 1) o ON true
  LEFT JOIN LATERAL (SELECT 1 AS hit FROM rides r WHERE r.natural_id = s.natural_id LIMIT 1) r
    ON true
), judged AS (
  SELECT src.*, CASE
      WHEN stored THEN NULL
      WHEN revoked_at IS NOT NULL AND ridden >= revoked_at THEN
        CASE WHEN person_status <> 'active' OR revoke_reason = 'person_suspended'
             THEN 'person_suspended' ELSE 'credential_revoked' END
      WHEN person_status <> 'active' AND revoked_at IS NULL THEN 'person_suspended'
    END AS refusal
  FROM src
), payable AS (
  SELECT j.* FROM judged j
  WHERE NOT j.stored AND j.refusal IS NULL AND NOT EXISTS (
    SELECT 1 FROM ride_charges rc WHERE rc.credential_jti = j.jti AND rc.code_step = j.step)
), prior AS (
  SELECT r.person_id, r.day, sum(r.fare_fen) AS paid FROM rides r
  WHERE r.person_id IN (SELECT person_id FROM payable) AND r.day IN (SELECT day FROM payable)
  GROUP BY r.person_id, r.day
), ranked AS (
  SELECT y.*, COALESCE(pr.paid, 0) AS p0,
         row_number() OVER (PARTITION BY y.person_id, y.day ORDER BY y.ridden, y.natural_id) AS k
  FROM payable y LEFT JOIN prior pr ON pr.person_id = y.person_id AND pr.day = y.day
), dues AS (
  SELECT ranked.*,
         LEAST(p0 + k * line.fare, GREATEST(p0, %(cap)s))
           - LEAST(p0 + (k - 1) * line.fare, GREATEST(p0, %(cap)s)) AS due
  FROM ranked CROSS JOIN (SELECT fare_fen AS fare FROM bus_lines WHERE code = %(line)s) line
), paid AS (
  SELECT dues.*, wallet - sum(due) OVER (PARTITION BY person_id ORDER BY ridden, natural_id
                                          ROWS UNBOUNDED PRECEDING) AS balance_after
  FROM dues
), outcomes AS (
  SELECT j.idx, j.natural_id, j.jti, j.step, j.ridden, j.day, j.person_id, j.stored, j.refusal,
         j.revoked_at, j.revoke_reason, j.home_region, a.idx IS NOT NULL AS paying,
         CASE WHEN j.stored THEN 'duplicate' WHEN j.refusal IS NOT NULL THEN 'revoked'
              WHEN a.idx IS NULL THEN 'copy' WHEN a.due = 0 THEN 'capped'
              WHEN a.due <= a.free_limit AND a.balance_after >= 0 THEN 'charged'
              ELSE 'arrears' END AS status,
         COALESCE(a.due, 0) AS fare, a.balance_after
  FROM judged j LEFT JOIN paid a ON a.idx = j.idx
), new_rides AS (
  INSERT INTO rides (natural_id, validator_id, line_code, person_id, credential_jti, code_step,
                     ridden_at, day, uploaded_at, outcome, fare_fen)
  SELECT natural_id, %(validator)s, %(line)s, person_id, jti, step, to_timestamp(ridden), day,
         %(uploaded)s, status, fare
  FROM outcomes WHERE NOT stored ORDER BY natural_id
  RETURNING id, natural_id
), charges AS (
  INSERT INTO ride_charges (credential_jti, code_step, ride_id)
  SELECT o.jti, o.step, n.id FROM outcomes o JOIN new_rides n ON n.natural_id = o.natural_id
  WHERE o.paying ORDER BY o.jti, o.step
), ledger AS (
  INSERT INTO wallet_entries (person_id, kind, amount_fen, balance_after_fen, idempotency_key,
                              created_at)
  SELECT person_id, 'ride', -fare, balance_after, 'ride:' || natural_id, %(uploaded)s
  FROM outcomes WHERE paying AND fare > 0 ORDER BY jti, step
), flags AS (
  INSERT INTO audit_flags (ride_id, rule, insured_region, treating_region, detail, status,
                           created_at)
  SELECT n.id,
         CASE WHEN o.refusal IS NULL THEN 'copied_code' ELSE 'ridden_after_revocation' END,
         o.home_region, o.home_region,
         left(CASE WHEN o.refusal IS NULL THEN 'same code as another validator''s ride'
                   WHEN o.revoked_at IS NULL
                   THEN 'ridden on ' || %(line)s || ' while the person is suspended'
                   ELSE 'ridden on ' || %(line)s || ' ' || (o.ridden - o.revoked_at)
                        || ' s after revocation (' || COALESCE(o.revoke_reason, o.refusal) || ')'
              END, 200),
         'open', %(uploaded)s
  FROM outcomes o JOIN new_rides n ON n.natural_id = o.natural_id
  WHERE NOT o.paying ORDER BY o.natural_id
), balances AS (
  SELECT person_id, min(holder_id) AS holder_id, min(wallet) - sum(due) AS balance
  FROM paid GROUP BY person_id HAVING sum(due) > 0
), wallets AS (
  UPDATE persons p SET transit_wallet_fen = b.balance, updated_at = clock_timestamp()
  FROM balances b WHERE p.id = b.person_id
), latest AS (
  SELECT e.holder_id, e.action FROM deny_entries e
  WHERE e.holder_id IN (SELECT holder_id FROM balances)
    AND e.version = (SELECT max(version) FROM deny_entries x WHERE x.holder_id = e.holder_id)
), deny AS (
  INSERT INTO deny_entries (holder_id, action, at)
  SELECT holder_id, action, %(uploaded)s FROM (
    SELECT b.person_id, b.holder_id,
           CASE WHEN b.balance <= -%(threshold)s AND l.action IS DISTINCT FROM 'add' THEN 'add'
                WHEN b.balance >= 0 AND l.action = 'add' THEN 'lift' END AS action
    FROM balances b LEFT JOIN latest l ON l.holder_id = b.holder_id) review
  WHERE action IS NOT NULL ORDER BY person_id
), cleared AS (
  DELETE FROM ride_stage  -- every part above reads the rows as they were copied
)
SELECT idx, status, fare, refusal, person_id FROM outcomes
"""

def store(session, validator, rides, results, now, daily_cap, threshold):
    """``rides._store`` for PostgreSQL: fills ``results`` for ``rides`` (``rides._Checked``)."""
    session.flush()
    raw = session.connection().connection.driver_connection  # psycopg, in the session's transaction
    with raw.cursor() as cursor:
        cursor.execute(_STAGE)  # once per connection; IF NOT EXISTS after (a failed batch's
        # rollback takes a table created in it along)
        with cursor.copy("COPY ride_stage (idx, natural_id, jti, step, ridden, day) "
                         "FROM STDIN") as copy:
            for ride in rides:
                copy.write_row((ride.index, ride.natural_id, ride.jti, ride.step, ride.ridden,
                                ride.day))
        # Both prepared once per connection: planning the big statement took 12 ms a batch.
        cursor.execute(_LOCK, prepare=True)
        cursor.execute(_DECIDE_AND_WRITE, {
            "cap": daily_cap, "threshold": threshold, "validator": validator.id,
            "line": validator.line_code, "uploaded": at(now)}, prepare=True)
        decided = {idx: row for idx, *row in cursor.fetchall()}
    charged = set()
    for ride in rides:
        row = decided.get(ride.index)
        if row is None:
            results[ride.index] = {"id": ride.natural_id, "status": "rejected",
                                   "reason": "credential_unknown"}
            continue
        status, fare_fen, refusal, person_id = row
        if status == "duplicate":
            results[ride.index] = {"id": ride.natural_id, "status": "duplicate"}
        elif status == "revoked":
            results[ride.index] = {"id": ride.natural_id, "status": "revoked", "fare_fen": 0,
                                   "reason": refusal}
        else:
            results[ride.index] = {"id": ride.natural_id, "status": status,
                                   "fare_fen": int(fare_fen)}
            if fare_fen:
                charged.add(person_id)
    # The wallets were written behind the ORM's back: a Person already loaded reads them again.
    for obj in list(session.identity_map.values()):
        if isinstance(obj, Person) and obj.id in charged:
            session.expire(obj)
