"""Where a verify's CPU goes: POST /api/v1/verify through app.test_client() on PostgreSQL + Redis,
timed on the CPU clock and profiled with cProfile (the standard library; no extra package).

  .venv/bin/python bench/profile_verify.py [--requests 400] [--persons 1000]

Its own database (yima_bench_h6_profile, recreated) and Redis db (8, flushed); the persons, codes and
validator are made as in load_bench.py. Prints CPU ms per request for a trivial route (/healthz),
a hospital verify (cashier session) and a bus verify (validator token), their ratio to /healthz,
the SQL statements of a hospital verify, then each part's share of a hospital verify. The full
cProfile listing (by inclusive and by own time) goes to bench/out/profile_verify.txt.
"""
import argparse
import base64
import cProfile
import io
import os
import pstats
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:0] = [ROOT, os.path.join(ROOT, "tests"), os.path.join(ROOT, "bench")]
DB_URL = "postgresql://postgres@127.0.0.1:5432/yima_bench_h6_profile"
REDIS_URL = "redis://127.0.0.1:6379/8"
OUT = os.path.join(ROOT, "bench", "out")

# (label, file suffix, function name): inclusive CPU of each, as a share of the whole request
PARTS = [
    ("session's account load (Flask-Login)", "backend/service/security.py", "load_account"),
    ("Flask-Limiter's before_request (default limit: anonymous writes only)",
     "flask_limiter/_extension.py", "_check_request_limit"),
    ("  of which its request filter (skips the rest for a signed-in caller)",
     "backend/service/limits.py", "skip"),
    ("request body validation (spectree + pydantic)", "backend/service/contract.py",
     "request_validation"),
    ("the view", "backend/api/verify.py", "verify_code"),
    ("  holder query (revocation check)", "backend/patients/credentials.py", "is_revoked"),
    ("  rate limit + replay guard + scan (one Lua round trip)", "backend/service/limits.py", "_run"),
    ("  issuer signature (libsodium)", "backend/tokens/verify.py", "_check_issuer_signature"),
    ("  phone signature (libsodium)", "backend/tokens/credential.py", "verify"),
    ("  person.read audit INSERT", "backend/oversight/audit.py", "append"),
    ("  commit (with the audit INSERT on PostgreSQL: one pipeline)", "sqlalchemy/orm/scoping.py",
     "commit"),
    ("session cookie (open_session)", "backend/service/headers.py", "open_session"),
    ("session cookie (save_session)", "flask/sessions.py", "save_session"),
    ("access log line", "backend/service/logs.py", "_finish_request"),
    ("security headers", "backend/service/headers.py", "security_headers"),
    ("metrics", "backend/service/metrics.py", "_count_request"),
]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=400)
    # More persons than hospital verifies: each code is a credential the worker has not seen, as in
    # load_bench.py, so the issuer signature is checked every time (not remembered).
    parser.add_argument("--persons", type=int, default=1000)
    args = parser.parse_args()
    os.chdir(ROOT)
    import load_bench

    load_bench.DB_URL, load_bench.REDIS_URL = DB_URL, REDIS_URL
    load_bench.OUT = os.path.join(OUT, "profile")
    load_bench.INSTANCE = os.path.join(load_bench.OUT, "instance")
    env = load_bench.prepare()
    os.environ.update(YIMA_CODE_WINDOW_STEPS=env["YIMA_CODE_WINDOW_STEPS"],
                      YIMA_VERIFY_RATE_LIMIT=env["YIMA_VERIFY_RATE_LIMIT"])
    started = int(time.time())
    people = load_bench.make_people(args.persons, started - load_bench.BACKDATE)
    med, ss = load_bench.code_stream(people, started), load_bench.code_stream(people, started, "ss")

    from phones import Phone, login

    from backend import create_app
    from backend.service.extensions import db
    from backend.transit import validators

    app = create_app()
    cashier = app.test_client()
    csrf = login(cashier, "demo-cashier")
    with app.app_context():
        _, enrol_code = validators.register_validator(db.session, line_code="ZONE6", label="profile",
                                                   created_by="bench", now=started)
        db.session.commit()
    device, validator = Phone(), app.test_client()
    proof = base64.urlsafe_b64encode(device.sign(b"YIMA-ACTIVATE-1" + enrol_code.encode()))
    enrolled = validator.post("/api/v1/validators/enrol", json={
        "enrol_code": enrol_code, "public_jwk": device.jwk(), "signature": proof.rstrip(b"=").decode()})
    assert enrolled.status_code == 201, enrolled.json
    bearer = {"Authorization": "Bearer " + enrolled.json["token"]}

    def healthz():
        assert cashier.get("/healthz").status_code == 200

    def hospital():
        answer = cashier.post("/api/v1/verify", json={"code": next(med), "context": "hospital"},
                              headers={"X-CSRF-Token": csrf})
        assert answer.status_code == 200, answer.json

    def bus():
        answer = validator.post("/api/v1/verify", json={"code": next(ss), "context": "bus"},
                                headers=bearer)
        assert answer.status_code == 200, answer.json

    stderr, sys.stderr = sys.stderr, open(os.devnull, "w")  # the access log's lines (still made)
    try:
        runs = [("GET /healthz", healthz), ("verify, hospital", hospital), ("verify, bus", bus)]
        for _, call in runs:
            for _ in range(30):
                call()
        cpu = {label: cpu_ms(call, args.requests) for label, call in runs}
        with StatementCount() as statements:
            for _ in range(20):
                hospital()
        profile = cProfile.Profile(time.process_time)
        profile.enable()
        for _ in range(args.requests):
            hospital()
        profile.disable()
    finally:
        sys.stderr.close()
        sys.stderr = stderr
    for label, ms in cpu.items():
        print(f"{label}: {ms:.2f} ms CPU per request")
    healthz_ms = cpu["GET /healthz"]
    print(f"ratio to /healthz by CPU: hospital {healthz_ms / cpu['verify, hospital']:.3f}, "
          f"bus {healthz_ms / cpu['verify, bus']:.3f}")
    print(f"per hospital verify: {statements.per(20)}")
    report(profile, args.requests)


class StatementCount:
    """SQL statements (cursor executes; BEGIN and COMMIT are not among them) and commits sent
    while inside, counted with SQLAlchemy's engine events."""

    def __enter__(self):
        from sqlalchemy import event
        from sqlalchemy.engine import Engine

        self.statements = self.commits = 0

        def executed(*_args):
            self.statements += 1

        def committed(*_args):
            self.commits += 1
        self._listeners = [(Engine, "before_cursor_execute", executed), (Engine, "commit", committed)]
        for target, name, listener in self._listeners:
            event.listen(target, name, listener)
        return self

    def __exit__(self, *_exc):
        from sqlalchemy import event

        for target, name, listener in self._listeners:
            event.remove(target, name, listener)

    def per(self, count):
        return (f"{self.statements / count:.1f} SQL statements, {self.commits / count:.1f} commits "
                "(BEGIN and COMMIT not among the statements)")


def cpu_ms(call, count):
    started = time.process_time()
    for _ in range(count):
        call()
    return (time.process_time() - started) * 1000 / count


def report(profile, count):
    stats = pstats.Stats(profile)
    whole = max(row[3] for (path, _, name), row in stats.stats.items() if name == "hospital")

    def inclusive(suffix, name):
        return sum(row[3] for (path, _, fn), row in stats.stats.items()
                   if fn == name and path.endswith(suffix))
    print(f"\nshares of a hospital verify under cProfile ({whole * 1000 / count:.2f} ms each "
          "with the profiler's own cost; the test client's work is in the whole):")
    for label, suffix, name in PARTS:
        print(f"  {100 * inclusive(suffix, name) / whole:5.1f}%  {label}")
    os.makedirs(OUT, exist_ok=True)
    listing = io.StringIO()
    pstats.Stats(profile, stream=listing).sort_stats("cumulative").print_stats(80)
    listing.write("\n\nThe same, by each function's own time:\n")
    pstats.Stats(profile, stream=listing).sort_stats("tottime").print_stats(60)
    with open(os.path.join(OUT, "profile_verify.txt"), "w") as handle:
        handle.write(listing.getvalue())


if __name__ == "__main__":
    main()
