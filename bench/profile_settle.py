"""Where a settlement's CPU goes: POST /api/v1/settlements through app.test_client() on PostgreSQL
+ Redis, timed on the CPU clock and profiled with cProfile.

  .venv/bin/python bench/profile_settle.py [--requests 300] [--persons 1000]

Its own database (yima_bench_h6_profile, recreated) and Redis db (8, flushed), made as in
load_bench.py. Each settlement pays a scan of its own (a hospital verify made beforehand, not
timed) with load_bench.py's four-line bill. Prints CPU ms per request for /healthz (the
yardstick, same run) and a settlement; the cProfile listing goes to bench/out/profile_settle.txt
(the raw statistics to profile_settle.pstats).
"""
import argparse
import cProfile
import io
import os
import pstats
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:0] = [ROOT, os.path.join(ROOT, "tests"), os.path.join(ROOT, "bench")]
OUT = os.path.join(ROOT, "bench", "out")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--persons", type=int, default=1000)
    args = parser.parse_args()
    os.chdir(ROOT)
    import load_bench
    import profile_verify

    load_bench.DB_URL, load_bench.REDIS_URL = profile_verify.DB_URL, profile_verify.REDIS_URL
    load_bench.OUT = os.path.join(OUT, "profile")
    load_bench.INSTANCE = os.path.join(load_bench.OUT, "instance")
    env = load_bench.prepare()
    os.environ.update(YIMA_CODE_WINDOW_STEPS=env["YIMA_CODE_WINDOW_STEPS"],
                      YIMA_VERIFY_RATE_LIMIT=env["YIMA_VERIFY_RATE_LIMIT"])
    started = int(time.time())
    people = load_bench.make_people(args.persons, started - load_bench.BACKDATE)
    med = load_bench.code_stream(people, started)

    from phones import login

    from backend import create_app

    app = create_app()
    cashier = app.test_client()
    csrf = login(cashier, "demo-cashier")
    headers = {"X-CSRF-Token": csrf}

    def scan():
        answer = cashier.post("/api/v1/verify", json={"code": next(med), "context": "hospital"},
                              headers=headers)
        assert answer.status_code == 200, answer.json
        return answer.json["scan_id"]

    counter = iter(range(10**9))

    def settle(scan_id):
        answer = cashier.post("/api/v1/settlements", json={"scan_id": scan_id, "lines": load_bench.BILL},
                              headers={**headers, "Idempotency-Key": f"prof-{next(counter):08d}"})
        assert answer.status_code == 201, answer.json

    stderr, sys.stderr = sys.stderr, open(os.devnull, "w")
    try:
        scans = [scan() for _ in range(2 * args.requests + 50)]
        for _ in range(30):
            assert cashier.get("/healthz").status_code == 200
            settle(scans.pop())
        began = time.process_time()
        for _ in range(args.requests):
            assert cashier.get("/healthz").status_code == 200
        healthz = (time.process_time() - began) * 1000 / args.requests
        began = time.process_time()
        for _ in range(args.requests):
            settle(scans.pop())
        settled = (time.process_time() - began) * 1000 / args.requests
        with profile_verify.StatementCount() as statements:
            for _ in range(20):
                settle(scans.pop())
        profile = cProfile.Profile(time.process_time)
        profile.enable()
        for _ in range(args.requests):
            settle(scans.pop())
        profile.disable()
    finally:
        sys.stderr.close()
        sys.stderr = stderr
    print(f"GET /healthz: {healthz:.2f} ms CPU per request")
    print(f"settle: {settled:.2f} ms CPU per request ({settled / healthz:.1f} x /healthz; "
          f"ratio to /healthz by CPU {healthz / settled:.3f})")
    print(f"per settlement: {statements.per(20)}")
    os.makedirs(OUT, exist_ok=True)
    listing = io.StringIO()
    pstats.Stats(profile, stream=listing).sort_stats("cumulative").print_stats(100)
    with open(os.path.join(OUT, "profile_settle.txt"), "w") as handle:
        handle.write(listing.getvalue())
    profile.dump_stats(os.path.join(OUT, "profile_settle.pstats"))  # for pstats' print_callees


if __name__ == "__main__":
    main()
