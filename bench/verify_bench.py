"""In-process verification cost per code against two raw Ed25519 verifies, in the same run.

  .venv/bin/python bench/verify_bench.py

Also: the QR version of each kind and device key type, and the PNG render time with version and
mask fixed. Prints a markdown table (kept in docs/benchmarks.md)."""
import io
import os
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "tests"))

from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,  # noqa: E402
)
from phones import Phone  # noqa: E402

from backend.service.qr import qr_version, render_png  # noqa: E402
from backend.tokens.code import make_code, step_at  # noqa: E402
from backend.tokens.credential import Claims, DeviceKey, issue_credential  # noqa: E402
from backend.tokens.keys import KeyRing  # noqa: E402
from backend.tokens.verify import verify  # noqa: E402

NOW = 1_800_000_000


def best_per_call(function, number, repeats=5):
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        for _ in range(number):
            function()
        best = min(best, (time.perf_counter() - started) / number)
    return best


def main():
    ring = KeyRing.open(tempfile.mkdtemp()).ensure(NOW - 10)
    keys = ring.public_keys(NOW)
    codes = {}
    for alg in ("Ed25519", "P-256"):
        phone = Phone(alg)
        for kind in ("med", "ss"):
            claims = Claims(sub="AAAAAAAAAAA", jti="BBBBBBBBBBA", knd=kind, reg="330421",
                            cls="emp", fam=False, iat=NOW - 10, exp=NOW + 86_400,
                            device_key=DeviceKey.from_jwk(phone.jwk()))
            codes[(alg, kind)] = make_code(issue_credential(ring, claims, NOW - 10),
                                           step_at(NOW), phone.sign)

    raw_key = Ed25519PrivateKey.generate()
    raw_public, message = raw_key.public_key(), b"x" * 200
    signature = raw_key.sign(message)

    def two_raw():
        raw_public.verify(signature, message)
        raw_public.verify(signature, message)

    code = codes[("Ed25519", "med")]
    p256 = codes[("P-256", "med")]
    baseline = best_per_call(two_raw, 3000)
    ed = best_per_call(lambda: verify(code, issuer_keys=keys, expected_kind="med", now=NOW), 3000)
    ec = best_per_call(lambda: verify(p256, issuer_keys=keys, expected_kind="med", now=NOW), 2000)
    png = best_per_call(lambda: render_png(code, io.BytesIO()), 50, repeats=3)

    print("| measurement | per code | ratio to 2 raw Ed25519 verifies |")
    print("| --- | ---: | ---: |")
    print(f"| baseline: 2 × raw Ed25519 verify (cryptography) | {baseline * 1e6:.1f} µs | 1.00 |")
    print(f"| verify(), Ed25519 phone (goal ≤ 1.5) | {ed * 1e6:.1f} µs | {ed / baseline:.2f} |")
    print(f"| verify(), P-256 phone | {ec * 1e6:.1f} µs | {ec / baseline:.2f} |")
    print(f"| QR PNG render, version 10, mask fixed | {png * 1e3:.2f} ms | – |")
    print()
    print("| code | characters | QR version (ECC M) |")
    print("| --- | ---: | ---: |")
    for (alg, kind), text in codes.items():
        print(f"| {kind}, {alg} phone | {len(text)} | {qr_version(text)} |")


if __name__ == "__main__":
    main()
