"""Making and verifying codes in Chromium (pwa/js/yima-code.js), against the raw WebCrypto
verifies measured in the same page and run. Prints a markdown table (docs/benchmarks.md).

  .venv/bin/python bench/js_bench.py [--iterations 600]

Each figure is the median over N single calls, after a warm-up. The page is served
cross-origin-isolated (COOP/COEP), which gives performance.now() a 5 µs resolution instead of
100 µs. Rows:
- makeCode: the phone, one non-extractable device key made in the page, a new step each call;
- verifyCode, new phone each code: N codes from N different phones (made in Python), as a bus
  validator sees them: the device key is imported for every code;
- verifyCode, same phone: one phone's codes at N steps (its device key cached after the first).
"""
import argparse
import functools
import http.server
import os
import sys
import tempfile
import threading

from playwright.sync_api import sync_playwright

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:0] = [ROOT, os.path.join(ROOT, "tests", "browser"), os.path.join(ROOT, "tests")]
from conftest import CHROMIUM, CHROMIUM_ARGS, _QuietHandler  # noqa: E402
from phones import Phone  # noqa: E402

from backend.tokens.code import make_code  # noqa: E402
from backend.tokens.credential import Claims, DeviceKey, issue_credential, new_credential_id, \
    new_pseudonym  # noqa: E402
from backend.tokens.keys import KeyRing  # noqa: E402

NOW = 1_795_000_000
STEP = NOW // 30


class _IsolatedHandler(_QuietHandler):
    def end_headers(self):
        self.send_header("Cross-Origin-Opener-Policy", "same-origin")
        self.send_header("Cross-Origin-Embedder-Policy", "require-corp")
        super().end_headers()


def credential_for(ring, jwk, knd="ss"):
    claims = Claims(sub=new_pseudonym(), jti=new_credential_id(), knd=knd, reg="330421", cls="res",
                    fam=False, iat=NOW - 3600, exp=NOW + 86_400, device_key=DeviceKey.from_jwk(jwk))
    return issue_credential(ring, claims, NOW - 3600)


SETUP = """async () => {
  window.code = await import('/pwa/js/yima-code.js');
  window.keys = {
    'Ed25519': await crypto.subtle.generateKey({name: 'Ed25519'}, false, ['sign', 'verify']),
    'P-256': await crypto.subtle.generateKey({name: 'ECDSA', namedCurve: 'P-256'}, false, ['sign', 'verify']),
  };
  const b64 = (raw) => code.b64url(new Uint8Array(raw));
  const ed = await crypto.subtle.exportKey('raw', keys['Ed25519'].publicKey);
  const ec = new Uint8Array(await crypto.subtle.exportKey('raw', keys['P-256'].publicKey));
  return {isolated: crossOriginIsolated,
          'Ed25519': {kty: 'OKP', crv: 'Ed25519', x: b64(ed)},
          'P-256': {kty: 'EC', crv: 'P-256', x: b64(ec.subarray(1, 33)), y: b64(ec.subarray(33))}};
}"""

MEASURE = """async ({n, jwks, credentials, strangers, step, now}) => {
  const median = async (fn, count) => {
    for (let i = 0; i < 100; i++) await fn(i);  // warm-up
    const times = [];
    for (let i = 0; i < count; i++) {
      const t = performance.now();
      await fn(i);
      times.push(performance.now() - t);
    }
    times.sort((a, b) => a - b);
    return times[count >> 1];
  };
  const must = async (promise) => { const r = await promise; if (!r.ok) throw new Error(r.error); };
  const options = {jwks, context: 'bus', now, window: n + 200};  // the same-phone codes span n steps
  const out = {};
  for (const alg of ['Ed25519', 'P-256']) {
    const privateKey = keys[alg].privateKey;
    const own = [];
    for (let i = 0; i < n + 100; i++) own.push(await code.makeCode(credentials[alg], privateKey, step - n + i));
    out[alg] = {
      make: await median((i) => code.makeCode(credentials[alg], privateKey, step + i), n),
      verifyNew: await median((i) => must(code.verifyCode(strangers[alg][i % strangers[alg].length], options)), n),
      verifySame: await median((i) => must(code.verifyCode(own[i], options)), n),
    };
  }
  const message = new TextEncoder().encode('x'.repeat(280));  // about a credential's signing input
  const raw = {};
  for (const alg of ['Ed25519', 'P-256']) {
    const params = alg === 'Ed25519' ? {name: 'Ed25519'} : {name: 'ECDSA', hash: 'SHA-256'};
    const signature = await crypto.subtle.sign(params, keys[alg].privateKey, message);
    raw[alg] = await median(async () => {
      if (!(await crypto.subtle.verify(params, keys[alg].publicKey, signature, message))) throw new Error('raw');
    }, 2 * n);
  }
  return {out, raw};
}"""


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=600, help="timed calls per figure (≥ 500)")
    n = parser.parse_args().iterations

    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(_IsolatedHandler, directory=ROOT))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    with tempfile.TemporaryDirectory() as keydir, sync_playwright() as playwright:
        ring = KeyRing.open(keydir).ensure(NOW - 86_400)
        strangers = {}
        for alg in ("Ed25519", "P-256"):
            phones = [Phone(alg) for _ in range(n + 100)]
            strangers[alg] = [make_code(credential_for(ring, p.jwk()), STEP, p.sign) for p in phones]
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page()
        page.goto(f"http://127.0.0.1:{server.server_address[1]}/tests/browser/blank.html")
        jwks = page.evaluate(SETUP)
        credentials = {alg: credential_for(ring, jwks[alg]) for alg in ("Ed25519", "P-256")}
        result = page.evaluate(MEASURE, {"n": n, "jwks": ring.jwks(NOW), "credentials": credentials,
                                         "strangers": strangers, "step": STEP, "now": NOW})
        version = browser.version
        browser.close()
    server.shutdown()
    report(result, n, version, jwks["isolated"])


def report(result, n, version, isolated):
    raw, out = result["raw"], result["out"]
    resolution = "5 µs" if isolated else "100 µs (not cross-origin isolated!)"
    print(f"Chromium {version}, headless; median of {n} calls after 100 warm-up calls; "
          f"timer resolution {resolution}.\n")
    print("| in the page | Ed25519 phone | P-256 phone |")
    print("| --- | ---: | ---: |")
    print(f"| raw `crypto.subtle.verify` (baseline; P-256 column: ECDSA) | {raw['Ed25519']:.3f} ms "
          f"| {raw['P-256']:.3f} ms |")
    for label, field in (("makeCode", "make"), ("verifyCode, new phone each code", "verifyNew"),
                         ("verifyCode, same phone (device key cached)", "verifySame")):
        print(f"| {label} | {out['Ed25519'][field]:.3f} ms | {out['P-256'][field]:.3f} ms |")
    for label, field in (("verifyCode, new phone ÷ (2 × raw Ed25519 verify)", "verifyNew"),
                         ("verifyCode, same phone ÷ (2 × raw Ed25519 verify)", "verifySame")):
        print(f"| {label} | {out['Ed25519'][field] / (2 * raw['Ed25519']):.2f} "
              f"| {out['P-256'][field] / (2 * raw['Ed25519']):.2f} |")
    print(f"| verifyCode, new phone ÷ (raw Ed25519 + raw device-key verify) "
          f"| {out['Ed25519']['verifyNew'] / (2 * raw['Ed25519']):.2f} "
          f"| {out['P-256']['verifyNew'] / (raw['Ed25519'] + raw['P-256']):.2f} |")


if __name__ == "__main__":
    main()
