"""Validator decision time in Chromium: decoded code → verify (cached JWKS, revocations) → seen-set
check → ride written to IndexedDB, as the kiosk does it, per code; p50/p95 over 500 codes, against a
raw WebCrypto Ed25519 verify measured in the same page.

  .venv/bin/python bench/validator_bench.py
"""
import functools
import http.server
import os
import sys
import tempfile
import threading

from playwright.sync_api import sync_playwright

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:0] = [ROOT, os.path.join(ROOT, "tests", "browser"), os.path.join(ROOT, "tests")]
from conftest import CHROMIUM_ARGS, _QuietHandler  # noqa: E402
from phones import Phone  # noqa: E402

from backend.tokens.code import make_code  # noqa: E402
from backend.tokens.credential import (Claims, DeviceKey, issue_credential,  # noqa: E402
                                       new_credential_id, new_pseudonym)
from backend.tokens.keys import KeyRing  # noqa: E402

MEASURE = """async ({codes, jwks, revoked}) => {
  const code = await import('/pwa/js/yima-code.js');
  const store = await import('/pwa/js/validator-store.js');
  const times = [];
  for (const [text, now] of codes) {
    const t = performance.now();
    const result = await code.verifyCode(text, {jwks, revokedJti: revoked, context: 'bus', now, seen: store.seen});
    if (result.ok) await store.queueRide({id: `${result.claims.jti}:${result.step}`, code: text, ridden_at: now});
    times.push(performance.now() - t);
    if (!result.ok) throw new Error(result.error);
  }
  times.sort((a, b) => a - b);
  const pair = await crypto.subtle.generateKey({name: 'Ed25519'}, false, ['sign', 'verify']);
  const message = new Uint8Array(200);
  const signature = await crypto.subtle.sign({name: 'Ed25519'}, pair.privateKey, message);
  let t = performance.now();
  for (let i = 0; i < 500; i++) await crypto.subtle.verify({name: 'Ed25519'}, pair.publicKey, signature, message);
  return {p50: times[times.length >> 1], p95: times[Math.floor(times.length * 0.95)], raw: (performance.now() - t) / 500};
}"""


def main():
    now = 1_800_000_000
    ring = KeyRing.open(tempfile.mkdtemp()).ensure(now - 60)
    phone = Phone()
    claims = Claims(sub=new_pseudonym(), jti=new_credential_id(), knd="ss", reg="330421", cls="emp",
                    fam=False, iat=now - 60, exp=now + 30 * 86_400,
                    device_key=DeviceKey.from_jwk(phone.jwk()))
    credential = issue_credential(ring, claims, now - 60)
    codes = [(make_code(credential, now // 30 + i, phone.sign), (now // 30 + i) * 30 + 5)
             for i in range(500)]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                             functools.partial(_QuietHandler, directory=ROOT))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        page = browser.new_page()
        page.goto(f"http://127.0.0.1:{server.server_address[1]}/tests/browser/blank.html")
        result = page.evaluate(MEASURE, {"codes": codes, "jwks": ring.jwks(now),
                                         "revoked": [new_credential_id() for _ in range(1000)]})
        browser.close()
    server.shutdown()
    print("| in Chromium, 500 codes, 1,000 revoked ids | ms | ratio to a raw Ed25519 verify |")
    print("| --- | ---: | ---: |")
    print(f"| baseline: raw WebCrypto Ed25519 verify | {result['raw']:.3f} | 1.0 |")
    print(f"| decision p50 (verify + seen-set + ride stored) | {result['p50']:.3f} | {result['p50'] / result['raw']:.1f} |")
    print(f"| decision p95 (goal ≤ 30 ms) | {result['p95']:.3f} | {result['p95'] / result['raw']:.1f} |")


if __name__ == "__main__":
    main()
