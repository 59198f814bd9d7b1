"""Credentials: device keys, claims, the canonical payload (spec §2) and issuing with PyJWT."""
import base64
import re
import secrets
from dataclasses import dataclass

import jwt
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from nacl.exceptions import BadSignatureError
from nacl.signing import VerifyKey

KINDS = ("med", "ss")
CLASSES = ("emp", "res")
_REGION = re.compile(r"^\d{6}$")
_B64URL = re.compile(r"^[A-Za-z0-9_-]*$")


def b64url(raw):
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def b64url_decode(text):
    if not isinstance(text, str) or not _B64URL.match(text) or len(text) % 4 == 1:
        raise ValueError("not base64url")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def new_pseudonym():
    """A credential's ``sub`` (spec §2): 8 fresh random bytes for every credential, so that two
    credentials of one person, and the codes they make, cannot be linked to each other."""
    return b64url(secrets.token_bytes(8))


def new_credential_id():
    return b64url(secrets.token_bytes(8))


# Ed25519 (RFC 8032 §5.1): the field prime, the curve constant d, and the y coordinates of the
# eight points of small order (neutral element, order 2, order 4, and ±y of the order-8 points).
_P25519 = 2 ** 255 - 19
_D25519 = -121665 * pow(121666, _P25519 - 2, _P25519) % _P25519
_Y8 = 0x5fc536d880238b13933c6d305acdfd5f098eff289f4c345b027b2c28f95e826
ED25519_SMALL_ORDER_Y = frozenset({0, 1, _P25519 - 1, _Y8, _P25519 - _Y8})


def check_ed25519_point(raw):
    """Spec §4 check 1 for an Ed25519 device key: the 32 bytes decode to a curve point as RFC 8032
    §5.1.3 decodes (y < p, x recoverable, x = 0 not with the sign bit set), and the point is not of
    small order. OpenSSL loads any 32 bytes and verifies signatures of small-order keys (the
    neutral element verifies a forged signature for every message), so this is checked here.
    ValueError if not."""
    encoded = int.from_bytes(raw, "little")
    y, x_sign = encoded & ((1 << 255) - 1), encoded >> 255
    if y >= _P25519:
        raise ValueError("an Ed25519 key's y is not below p")
    # x² = (y² - 1) / (d·y² + 1) has a root iff (y² - 1)·(d·y² + 1) is a square (d·y² + 1 ≠ 0).
    u_times_v = (y * y - 1) * (_D25519 * y * y + 1) % _P25519
    if u_times_v == 0 and x_sign:
        raise ValueError("an Ed25519 key with x = 0 and the sign bit set")
    if u_times_v and _jacobi(u_times_v, _P25519) != 1:
        raise ValueError("an Ed25519 key that is not a point on the curve")
    if y in ED25519_SMALL_ORDER_Y:
        raise ValueError("an Ed25519 key of small order")


def _jacobi(a, n):
    """The Jacobi symbol (a/n) for odd n > 0; for a prime n, 1 iff a is a nonzero square mod n.
    Binary algorithm (quadratic reciprocity): several times faster than Euler's a^((n-1)/2) here,
    and this runs for every device key not seen recently."""
    result = 1
    a %= n
    while a:
        zeros = (a & -a).bit_length() - 1
        a >>= zeros
        if zeros & 1 and n & 7 in (3, 5):
            result = -result
        if a & 3 == 3 and n & 3 == 3:
            result = -result
        a, n = n % a, a
    return result if n == 1 else 0


class DeviceKey:
    """A phone's public key: Ed25519 (32 raw bytes) or P-256 (carried compressed, 33 bytes)."""

    def __init__(self, alg, public_key):
        self.alg = alg
        self.public_key = public_key
        # Ed25519 signatures are checked with libsodium: about half OpenSSL's CPU on this machine
        # (docs/benchmarks.md), and a phone's signature is checked for every code and every ride.
        self._sodium = VerifyKey(self.packed()) if alg == "Ed25519" else None

    def __repr__(self):
        return f"DeviceKey({self.alg}, {b64url(self.packed())})"

    def __eq__(self, other):
        return isinstance(other, DeviceKey) and self.packed() == other.packed()

    @classmethod
    def from_raw(cls, alg, raw):
        """Ed25519 raw key, or a P-256 SEC1 point (compressed or not). ValueError unless it is a
        valid point (spec §4 check 1); OpenSSL checks that P-256 points are on the curve."""
        if alg == "Ed25519":
            if len(raw) != 32:
                raise ValueError("an Ed25519 key is 32 bytes")
            check_ed25519_point(raw)
            return cls(alg, Ed25519PublicKey.from_public_bytes(raw))
        if alg == "P-256":
            if len(raw) not in (33, 65):
                raise ValueError("a P-256 point is 33 or 65 bytes")
            return cls(alg, ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), raw))
        raise ValueError("device key must be Ed25519 or P-256")

    @classmethod
    def from_jwk(cls, jwk):
        if not isinstance(jwk, dict):
            raise ValueError("a JWK is a JSON object")
        if jwk.get("kty") == "OKP" and jwk.get("crv") == "Ed25519":
            return cls.from_raw("Ed25519", b64url_decode(jwk.get("x")))
        if jwk.get("kty") == "EC" and jwk.get("crv") == "P-256":
            x, y = b64url_decode(jwk.get("x")), b64url_decode(jwk.get("y"))
            if len(x) != 32 or len(y) != 32:
                raise ValueError("P-256 coordinates are 32 bytes each")
            return cls.from_raw("P-256", b"\x04" + x + y)
        raise ValueError("device key must be an Ed25519 (OKP) or P-256 (EC) JWK")

    def packed(self):
        if self.alg == "Ed25519":
            return self.public_key.public_bytes(serialization.Encoding.Raw,
                                                serialization.PublicFormat.Raw)
        return self.public_key.public_bytes(serialization.Encoding.X962,
                                            serialization.PublicFormat.CompressedPoint)

    def jwk(self):
        if self.alg == "Ed25519":
            return {"kty": "OKP", "crv": "Ed25519", "x": b64url(self.packed())}
        numbers = self.public_key.public_numbers()
        return {"kty": "EC", "crv": "P-256", "x": b64url(numbers.x.to_bytes(32, "big")),
                "y": b64url(numbers.y.to_bytes(32, "big"))}

    def verify(self, signature, message):
        if len(signature) != 64:
            return False
        if self._sodium is not None:
            try:
                self._sodium.verify(message, signature)
            except BadSignatureError:
                return False
            return True
        r, s = int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
        try:
            self.public_key.verify(encode_dss_signature(r, s), message, ec.ECDSA(hashes.SHA256()))
        except (InvalidSignature, ValueError):
            return False
        return True


@dataclass(frozen=True)
class Claims:
    sub: str
    jti: str
    knd: str
    reg: str
    cls: str
    fam: bool
    iat: int
    exp: int
    device_key: DeviceKey

    def check(self):
        for name in ("sub", "jti"):
            if len(b64url_decode(getattr(self, name))) != 8:
                raise ValueError(f"{name} must be 8 bytes, base64url")
        if self.knd not in KINDS or self.cls not in CLASSES or not _REGION.match(self.reg):
            raise ValueError("kind, class or region out of range")
        if not 0 < self.iat < self.exp < 2 ** 32:
            raise ValueError("need 0 < iat < exp < 2^32")
        return self


def _json_string(value):
    return '"' + value + '"'  # values are base64url, digits or fixed words: nothing to escape


def _jwk_json(jwk):
    return "{" + ",".join(f'"{k}":"{v}"' for k, v in jwk.items()) + "}"


def canonical_payload(claims):
    """The exact payload bytes of spec §2 (member order fixed, no whitespace)."""
    parts = ['"iss":"yima"', f'"sub":{_json_string(claims.sub)}', f'"jti":{_json_string(claims.jti)}',
             f'"knd":"{claims.knd}"', f'"reg":"{claims.reg}"', f'"cls":"{claims.cls}"']
    if claims.fam:
        parts.append('"fam":true')
    parts += [f'"iat":{claims.iat}', f'"exp":{claims.exp}',
              '"cnf":{"jwk":' + _jwk_json(claims.device_key.jwk()) + "}"]
    return ("{" + ",".join(parts) + "}").encode("ascii")


def canonical_header(kid):
    return ('{"alg":"EdDSA","kid":"' + kid + '"}').encode("ascii")


def issue_credential(ring, claims, now):
    """Sign ``claims`` with the ring's current key: a standard compact JWS (PyJWT, EdDSA)."""
    key = ring.signing_key(now)
    payload = canonical_payload(claims.check())
    token = jwt.api_jws.PyJWS().encode(payload, key.private_key, algorithm="EdDSA",
                                       headers={"kid": key.kid, "typ": None})
    header_b64, payload_b64, _ = token.split(".")
    # The spec fixes the header and payload bytes; make sure PyJWT did not reformat them.
    if b64url_decode(header_b64) != canonical_header(key.kid) or \
            b64url_decode(payload_b64) != payload:
        raise RuntimeError("PyJWT changed the canonical header or payload")
    return token
