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
        return make_code(self.credentials[kind], step, self.sign)


def login(client, name, password=DEMO_PASSWORD):
    response = client.post("/api/v1/auth/login", json={"login": name, "password": password})
    assert response.status_code == 200, response.json
    return response.json["csrf_token"]
