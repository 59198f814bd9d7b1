"""A phone in tests: a real device key (Ed25519 or P-256) that activates through the API and makes
codes, as the PWA does."""
import base64
import time

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from backend.demo.data import DEMO_PASSWORD
from backend.tokens.code import make_code


def b64url(raw):
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


class Phone:
    def __init__(self, alg="Ed25519"):
        self.alg = alg
        self.key = Ed25519PrivateKey.generate() if alg == "Ed25519" else \
            ec.generate_private_key(ec.SECP256R1())
        self.credentials = {}
        self.device_id = None
        self.shown = {}  # kind -> the time steps of the codes made so far
        self.past_from, self.past_used = None, 0  # for past_code()

    def jwk(self):
        public = self.key.public_key()
        if self.alg == "Ed25519":
            raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
            return {"kty": "OKP", "crv": "Ed25519", "x": b64url(raw)}
        numbers = public.public_numbers()
        return {"kty": "EC", "crv": "P-256", "x": b64url(numbers.x.to_bytes(32, "big")),
                "y": b64url(numbers.y.to_bytes(32, "big"))}

    def sign(self, message):
        if self.alg == "Ed25519":
            return self.key.sign(message)
        r, s = decode_dss_signature(self.key.sign(message, ec.ECDSA(hashes.SHA256())))
        return r.to_bytes(32, "big") + s.to_bytes(32, "big")

    def activate(self, client, csrf, path="/api/v1/devices", extra=None):
        nonce = client.post("/api/v1/devices/challenge", headers={"X-CSRF-Token": csrf}).json["nonce"]
        proof = b64url(self.sign(b"YIMA-ACTIVATE-1" + base64.urlsafe_b64decode(nonce + "=")))
        response = client.post(path, json={"public_jwk": self.jwk(), "nonce": nonce,
                                           "signature": proof, **(extra or {})},
                               headers={"X-CSRF-Token": csrf})
        if response.status_code == 201:
            self.credentials = response.json["credentials"]
            self.device_id = response.json["device"]["id"]
        return response

    def code(self, kind="med", now=None):
        step = int((time.time() if now is None else now) // 30)
        self.shown.setdefault(kind, set()).add(step)
        return make_code(self.credentials[kind], step, self.sign)

    def past_code(self, kind="med"):
        """Now's code, then the last step's, and so on back (``demo_phone_for_many_scans``)."""
        self.past_used += 1
        return self.code(kind, now=self.past_from - 30 * (self.past_used - 1))

    def fresh_code(self, kind="med"):
        """A code of a time step this phone has not shown yet, inside the verifier's ±1 step
        window: the next step first, then this one, then the last (an online code is taken once).
        Codes made at "now", "now - 30 s" and "now + 30 s" on separate calls collided when a step
        boundary fell between two calls (the second call's "now - 30 s" was the first's "now")."""
        current = int(steady_time() // 30)
        used = self.shown.setdefault(kind, set())
        for step in (current + 1, current, current - 1):
            if step not in used:
                return self.code(kind, now=step * 30)
        raise AssertionError("a fourth code of this phone within one 30 s step: none is fresh")


def demo_phone_for_many_scans(app, steps=6):
    """The demo patient's activated phone, for a test that scans it more often than the ±1 step
    window holds: ``app``'s verifier takes codes up to ``steps`` steps old, and
    ``past_code()`` makes each code one step further back than the last (a code is single-use
    online)."""
    patient = app.test_client()
    phone = Phone()
    phone.activate(patient, login(patient, "demo-patient"))
    phone.past_from, phone.past_used = steady_time(), 0
    app.config["CODE_WINDOW_STEPS"] = steps
    return phone


def steady_time(margin=3.0):
    """The time now, once it is at least ``margin`` seconds short of the next 30 s step boundary
    (it waits past the boundary if not). A code made for ``steady_time() - 30`` is one step old
    when the verifier reads it a moment later; made 0.1 s before a boundary, it was two steps old
    by then, outside the ±1 step window, and a test failed at random (1 in ~300 scans)."""
    now = time.time()
    if 30 - now % 30 < margin:
        time.sleep(30 - now % 30 + 0.05)
        now = time.time()
    return now


def login(client, name, password=DEMO_PASSWORD):
    response = client.post("/api/v1/auth/login", json={"login": name, "password": password})
    assert response.status_code == 200, response.json
    return response.json["csrf_token"]
