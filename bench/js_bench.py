"""Code generation and verification in Chromium (pwa/js/yima-code.js), against raw WebCrypto
Ed25519 verifies measured in the same page and run.

  .venv/bin/python bench/js_bench.py
"""
import functools
import http.server
import json
import os
import sys
import threading

from playwright.sync_api import sync_playwright

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "browser"))
from conftest import CHROMIUM_ARGS, _QuietHandler  # noqa: E402

MEASURE = """async (vectors) => {
  const code = await import('/pwa/js/yima-code.js');
  // performance.now() is coarse (0.1 ms) here: time batches, keep the best of five.
  async function time(fn, n) {
    for (let i = 0; i < 50; i++) await fn(i);
    let best = Infinity;
    for (let r = 0; r < 5; r++) {
      const t = performance.now();
      for (let i = 0; i < n; i++) await fn(i);
      best = Math.min(best, (performance.now() - t) / n);
    }
    return best;
  }
  const out = {};
  for (const g of vectors.generation) {
    const jwk = g.device_private_jwk;
    const alg = jwk.kty === 'OKP' ? {name: 'Ed25519'} : {name: 'ECDSA', namedCurve: 'P-256'};
    const key = await crypto.subtle.importKey('jwk', jwk, alg, false, ['sign']);
    const context = g.name.startsWith('med') ? 'hospital' : 'bus';
    const made = await code.makeCode(g.credential, key, g.step);
    out[g.name] = {
      make: await time(() => code.makeCode(g.credential, key, g.step), 500),
      verify: await time(() => code.verifyCode(made, {jwks: vectors.issuer_jwks, context, now: g.step * 30}), 500),
    };
  }
  const pair = await crypto.subtle.generateKey({name: 'Ed25519'}, false, ['sign', 'verify']);
  const message = new Uint8Array(200);
  const signature = await crypto.subtle.sign({name: 'Ed25519'}, pair.privateKey, message);
  out.raw = await time(() => crypto.subtle.verify({name: 'Ed25519'}, pair.publicKey, signature, message), 1000);
  return out;
}"""


def main():
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(_QuietHandler, directory=ROOT))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    with open(os.path.join(ROOT, "tests", "vectors", "codes.json")) as handle:
        vectors = json.load(handle)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        page = browser.new_page()
        page.goto(f"http://127.0.0.1:{server.server_address[1]}/tests/browser/blank.html")
        out = page.evaluate(MEASURE, vectors)
        browser.close()
    server.shutdown()
    raw = out.pop("raw")
    print("| in Chromium (best of 5 batches of 500) | makeCode | verifyCode | verifyCode ÷ 2 raw verifies |")
    print("| --- | ---: | ---: | ---: |")
    print(f"| baseline: raw WebCrypto Ed25519 verify | – | {raw:.3f} ms | – |")
    for name, times in out.items():
        print(f"| {name} | {times['make']:.3f} ms | {times['verify']:.3f} ms | "
              f"{times['verify'] / (2 * raw):.2f} |")


if __name__ == "__main__":
    main()
