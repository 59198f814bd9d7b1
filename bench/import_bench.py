"""Registry import benchmark on PostgreSQL.

  .venv/bin/python bench/import_bench.py [--rows 3000000] [--database-url URL]

Generates a CSV of valid insured persons (bench/out/, reused between runs), then in one run:
- baseline: psql \\copy of the same file into an unindexed table (no validation, no hashing);
- `flask registry import` of the whole file into a freshly migrated database: wall time, rows/s,
  peak RSS of the importing process; and the same for a third of the file, to show memory is flat;
- a file of a third the size with one bad row in the middle: nothing imported, the row named.
Prints a markdown table; the results are kept in docs/benchmarks.md.
"""
import argparse
import os
import subprocess
import sys
import time

import psycopg

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from backend.registry.identity import check_digit  # noqa: E402

OUT = os.path.join(ROOT, "bench", "out")
REGIONS = ("310118", "320509", "330421")
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗沈陆顾蒋钱"
GIVEN = ("建国", "秀英", "桂芳", "志明", "晓敏", "佳怡", "国强", "美玲", "晨阳", "子轩", "阿梅")
HEADER = "national_id,name,phone,home_region,insurance_class,personal_account_fen,transit_wallet_fen\n"


def national_id(i):
    region = REGIONS[i % 3]
    day = (i // 3) % 20000
    year, rest = 1940 + day // 336, day % 336
    born = f"{year}{rest // 28 + 1:02d}{rest % 28 + 1:02d}"
    first17 = f"{region}{born}{(i // 60000) % 1000:03d}"
    return first17 + check_digit(first17)


def write_csv(path, rows, bad_line=None):
    if os.path.exists(path):
        return path
    os.makedirs(OUT, exist_ok=True)
    with open(path + ".tmp", "w", encoding="utf-8") as out:
        out.write(HEADER)
        for i in range(rows):
            nid = national_id(i)
            if bad_line is not None and i + 2 == bad_line:
                nid = nid[:17] + ("0" if nid[17] != "0" else "1")  # a wrong checksum
            klass = "employee" if i % 5 else "resident"
            out.write(f"{nid},{SURNAMES[i % 25]}{GIVEN[i % 11]},1{3 + i % 7}{i % 1000000000:09d},"
                      f"{REGIONS[i % 3]},{klass},{(i * 37) % 500000 if i % 5 else 0},{i % 5000}\n")
    os.replace(path + ".tmp", path)
    return path


def recreate(url):
    base, name = url.rsplit("/", 1)
    with psycopg.connect(base + "/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def flask(args, env):
    return [os.path.join(os.path.dirname(sys.executable), "flask"), "--app", "wsgi", *args]


def run_measured(command, env):
    """Run a child; return (seconds, peak RSS in MiB, exit code, stdout+stderr)."""
    started = time.perf_counter()
    child = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT)
    output = child.stdout.read().decode()
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    child.stdout.close()
    return time.perf_counter() - started, usage.ru_maxrss / 1024, child.returncode, output


def fresh_database(url, env):
    recreate(url)
    for step in (["db", "upgrade"], ["demo", "seed"]):
        subprocess.run(flask(step, env), cwd=ROOT, env=env, check=True, capture_output=True)


def baseline_copy(url, path):
    psql_url = url
    started = time.perf_counter()
    subprocess.run(["psql", psql_url, "-q", "-c",
                    "CREATE TABLE raw_copy (a text, b text, c text, d text, e text, f text, g text)",
                    "-c", f"\\copy raw_copy FROM '{path}' WITH (FORMAT csv, HEADER true)"],
                   check=True, capture_output=True)
    return time.perf_counter() - started


def count_persons(url):
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT count(*) FROM persons").fetchone()[0]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=3_000_000)
    parser.add_argument("--database-url", default="postgresql://postgres@127.0.0.1:5432/yima_bench")
    args = parser.parse_args()
    url = args.database_url
    env = dict(os.environ, DATABASE_URL=url, YIMA_INSTANCE_PATH=os.path.join(OUT, "instance"))
    env.pop("REDIS_URL", None)
    third = args.rows // 3
    full = write_csv(os.path.join(OUT, f"persons-{args.rows}.csv"), args.rows)
    small = write_csv(os.path.join(OUT, f"persons-{third}.csv"), third)
    bad_line = third // 2 + 2
    bad = write_csv(os.path.join(OUT, f"persons-{third}-bad-{bad_line}.csv"), third, bad_line)

    fresh_database(url, env)
    base_s = baseline_copy(url, full)
    rows = []
    for label, path, n in (("import, a third of the rows", small, third),
                           ("import, all rows", full, args.rows)):
        fresh_database(url, env)
        seconds, rss, code, output = run_measured(flask(["registry", "import", path], env), env)
        assert code == 0, output
        assert count_persons(url) >= n, f"rows missing after import: {output}"
        rows.append((label, n, seconds, rss))
    fresh_database(url, env)
    seconds, rss, code, output = run_measured(flask(["registry", "import", bad], env), env)
    named = f"line {bad_line}: national_id: checksum" in output
    untouched = count_persons(url) == 12
    print(f"| measurement (PostgreSQL, {args.rows:,} rows) | rows | seconds | rows/s | peak RSS MiB | vs baseline |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    print(f"| baseline: psql \\copy, no validation, no index | {args.rows:,} | {base_s:.1f} | "
          f"{args.rows / base_s:,.0f} | – | 1.00 |")
    for label, n, secs, mem in rows:
        print(f"| {label} | {n:,} | {secs:.1f} | {n / secs:,.0f} | {mem:.0f} | "
              f"{secs / base_s * args.rows / n:.2f} (per row) |")
    print(f"| one bad row at line {bad_line:,} of {third:,}: exit {code}, row named: {named}, "
          f"nothing imported: {untouched} | {third:,} | {seconds:.1f} | – | {rss:.0f} | – |")


if __name__ == "__main__":
    main()
