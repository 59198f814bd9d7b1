"""What a bus validator's trust data costs in bytes as the revocation and deny lists grow
(docs/deployment.md, "100 times the zone"). Run: ``.venv/bin/python tests/failover/trust_bundle_bytes.py``.

The baseline is the real ``GET /api/v1/validators/trust`` of the demo zone (SQLite, a fresh
instance folder). The lists are then filled with N credential ids made as the issuer makes them
(``new_credential_id``: 8 random bytes, base64url) and signed by the same ``sign_document`` with the
same key ring, so every byte is the server's own encoding: JSON inside a compact JWS (base64url).
Sizes are raw and gzip (level 6, what a proxy would send with ``Content-Encoding: gzip``)."""
import gzip
import json
import os
import shutil
import sys
import tempfile
import time

sys.path[:0] = [os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                os.path.dirname(os.path.dirname(os.path.abspath(__file__)))]

from phones import Phone, b64url, login  # noqa: E402

from backend import create_app  # noqa: E402
from backend.service.extensions import db  # noqa: E402
from backend.service.issuer import current_ring  # noqa: E402
from backend.tokens.credential import new_credential_id  # noqa: E402
from backend.tokens.documents import sign_document  # noqa: E402

SIZES = (0, 1_000, 10_000, 50_000, 100_000)


def main():
    folder = tempfile.mkdtemp(prefix="yima-trust-bytes-")
    try:
        measure(folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def measure(folder):
    app = create_app({"INSTANCE_PATH": folder, "DATABASE_URL": f"sqlite:///{folder}/y.sqlite3",
                      "SECRET_KEY": "k", "ID_HASH_KEY": "h", "LOG_LEVEL": "ERROR"})
    with app.app_context():
        from flask_migrate import upgrade

        from backend.demo.seed import seed
        upgrade()
        seed(db.session, app.config["ID_HASH_KEY"])
    admin = app.test_client()
    csrf = login(admin, "demo-admin")
    code = admin.post("/api/v1/admin/validators", json={"line": "ZONE6", "label": "bytes"},
                      headers={"X-CSRF-Token": csrf}).json["enrol_code"]
    device = Phone()
    token = app.test_client().post("/api/v1/validators/enrol", json={
        "enrol_code": code, "public_jwk": device.jwk(),
        "signature": b64url(device.sign(b"YIMA-ACTIVATE-1" + code.encode()))}).json["token"]
    bundle = app.test_client().get("/api/v1/validators/trust",
                                   headers={"Authorization": f"Bearer {token}"}).json
    base = _sizes(bundle)
    print(f"demo zone trust bundle: {base[0]:,} bytes, gzip {base[1]:,} "
          f"(of which the JWKS {len(json.dumps(bundle['jwks'], separators=(',', ':'))):,} bytes)")
    now = int(time.time())
    with app.app_context():
        ring = current_ring(app)
        print("entries per list | revocations JWS | deny JWS | whole bundle | gzip | bytes/entry (gzip)")
        for size in SIZES:
            revoked = {"iss": "yima", "typ": "revocations", "since": 0, "version": size,
                       "jti": [new_credential_id() for _ in range(size)], "iat": now}
            denied = {"iss": "yima", "typ": "deny", "version": size,
                      "jti": sorted(new_credential_id() for _ in range(size)), "iat": now}
            full = {**bundle, "revocations": sign_document(ring, revoked, now),
                    "deny": sign_document(ring, denied, now)}
            raw, packed = _sizes(full)
            per = (packed - base[1]) / (2 * size) if size else 0
            print(f"{size:>16,} | {len(full['revocations']):>15,} | {len(full['deny']):>8,} | "
                  f"{raw:>12,} | {packed:>9,} | {per:.1f}")
        delta = {"iss": "yima", "typ": "revocations", "since": 10 ** 6, "version": 10 ** 6 + 100,
                 "jti": [new_credential_id() for _ in range(100)], "iat": now}
        signed = sign_document(ring, delta, now)
        print(f"a delta of 100 revocations (since=version): {len(signed):,} bytes, gzip "
              f"{len(gzip.compress(signed.encode(), 6)):,}")
        db.engine.dispose()


def _sizes(document):
    raw = json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode()
    return len(raw), len(gzip.compress(raw, 6))


if __name__ == "__main__":
    main()
