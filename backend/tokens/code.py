"""The code a phone shows (spec §3): credential fields, the issuer's signature, the time step and
the device's signature, packed in binary and written in base45 after the prefix ``YM1``."""
import functools
import json
import struct
from dataclasses import dataclass

from . import base45
from .credential import CLASSES, KINDS, Claims, DeviceKey, b64url, b64url_decode, \
    canonical_header, canonical_payload
from .errors import Malformed

PREFIX = "YM1"
CODE_LABEL = b"YIMA-CODE-1"
STEP_SECONDS = 30
_FIXED = struct.Struct(">B6s8s8s3sII")  # flags, kid, sub, jti, reg, iat, exp: 34 bytes
_FLAG_SS, _FLAG_RES, _FLAG_P256, _FLAG_FAM = 1, 2, 4, 8
MAX_TEXT = 400
# What a decoder strips around a code (spec §3.3), and nothing else: what scanners send before or
# after it (TAB, LF, CR, GS U+001D, space). Not Python's whole idea of whitespace (NBSP, U+2028,
# U+3000, …): the spec names the set so that every verifier accepts the same texts.
SCANNER_WHITESPACE = "\t\n\r\x1d "


def step_at(unix_seconds):
    return int(unix_seconds) // STEP_SECONDS


def device_message(jti_raw, kind, step):
    return CODE_LABEL + jti_raw + bytes((KINDS.index(kind),)) + struct.pack(">I", step)


def pack_credential(jws):
    """The binary form of a credential (fields through the issuer signature)."""
    try:
        header_b64, payload_b64, signature_b64 = jws.split(".")
        header, payload = b64url_decode(header_b64), b64url_decode(payload_b64)
        signature = b64url_decode(signature_b64)
        kid = json.loads(header)["kid"]
        body = json.loads(payload)
        claims = Claims(sub=body["sub"], jti=body["jti"], knd=body["knd"], reg=body["reg"],
                        cls=body["cls"], fam=body.get("fam", False) is True, iat=body["iat"],
                        exp=body["exp"], device_key=DeviceKey.from_jwk(body["cnf"]["jwk"])).check()
        canonical = header == canonical_header(kid) and payload == canonical_payload(claims)
        kid_raw = b64url_decode(kid)
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise Malformed(f"not a Yima credential: {error}") from None
    if not canonical or len(kid_raw) != 6 or len(signature) != 64:
        raise Malformed("the credential is not in the canonical form of the spec")
    flags = (_FLAG_SS * (claims.knd == "ss") | _FLAG_RES * (claims.cls == "res")
             | _FLAG_P256 * (claims.device_key.alg == "P-256") | _FLAG_FAM * claims.fam)
    fixed = _FIXED.pack(flags, kid_raw, b64url_decode(claims.sub), b64url_decode(claims.jti),
                        int(claims.reg).to_bytes(3, "big"), claims.iat, claims.exp)
    return fixed + claims.device_key.packed() + signature


def make_code(jws, step, sign):
    """The code text for ``step``; ``sign(message) -> 64 bytes`` is the phone's device key."""
    packed = pack_credential(jws)
    kind = KINDS[packed[0] & _FLAG_SS]
    signature = sign(device_message(packed[15:23], kind, step))
    if len(signature) != 64:
        raise ValueError("a device signature is 64 bytes (Ed25519, or P-256 r||s)")
    return PREFIX + base45.encode(packed + struct.pack(">I", step) + signature)


@dataclass(frozen=True)
class DecodedCode:
    """What a code says, before any signature is checked."""

    kid: str
    unverified_claims: Claims
    signing_input: bytes
    issuer_signature: bytes
    step: int
    device_signature: bytes
    jti_raw: bytes

    def jws(self):
        """The standard compact JWS the code carries (spec §3.4)."""
        return self.signing_input.decode() + "." + b64url(self.issuer_signature)


def decode_code(text):
    """Parse a code. Raises ``Malformed`` for anything that fails spec §4 check 1: the scanner's
    whitespace stripped, prefix, base45, length and flags, then (``_credential_fields``) the
    region, ``0 < iat < exp`` and the device key a valid point."""
    if not isinstance(text, str) or len(text) > MAX_TEXT:
        raise Malformed("not a code")
    text = text.strip(SCANNER_WHITESPACE)
    if not text.startswith(PREFIX):
        raise Malformed("a Yima code starts with YM1")
    data = base45.decode(text[len(PREFIX):])
    if len(data) not in (198, 199) or data[0] & 0xF0:
        raise Malformed("wrong length or unknown flags")
    key_end = 34 + (33 if data[0] & _FLAG_P256 else 32)
    if len(data) != key_end + 132:
        raise Malformed("length does not match the device key type")
    kid, claims, signing_input = _credential_fields(data[:key_end])
    (step,) = struct.unpack_from(">I", data, key_end + 64)
    return DecodedCode(kid, claims, signing_input, data[key_end:key_end + 64], step,
                       data[key_end + 68:], data[15:23])


@functools.lru_cache(maxsize=4096)
def _credential_fields(fixed_and_key):
    """kid, claims and the JWS signing input of a credential's binary fields. Pure, so the
    parsing is remembered for the phones seen most recently (a validator's regulars)."""
    flags, kid_raw, sub, jti, reg, iat, exp = _FIXED.unpack_from(fixed_and_key)
    try:
        device_key = DeviceKey.from_raw("P-256" if flags & _FLAG_P256 else "Ed25519",
                                        fixed_and_key[34:])
        claims = Claims(sub=b64url(sub), jti=b64url(jti), knd=KINDS[flags & _FLAG_SS],
                        reg=f"{int.from_bytes(reg, 'big'):06d}",
                        cls=CLASSES[bool(flags & _FLAG_RES)], fam=bool(flags & _FLAG_FAM),
                        iat=iat, exp=exp, device_key=device_key).check()
    except ValueError as error:
        raise Malformed(f"invalid field: {error}") from None
    kid = b64url(kid_raw)
    signing_input = (b64url(canonical_header(kid)) + "." + b64url(canonical_payload(claims))).encode()
    return kid, claims, signing_input
