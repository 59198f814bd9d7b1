"""Write tests/vectors/codes.json from fixed keys: valid codes and invalid ones, each with the
error a verifier must give. Deterministic (Ed25519, and RFC 6979 ECDSA for P-256), so running it
again reproduces the committed file byte for byte:

    .venv/bin/python tests/vectors/generate.py [OUT.json]
"""
import json
import os
import sys

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, ROOT)

from backend.tokens import base45  # noqa: E402
from backend.tokens.code import PREFIX, device_message, make_code, step_at  # noqa: E402
from backend.tokens.credential import (Claims, DeviceKey, b64url, b64url_decode,  # noqa: E402
                                       canonical_header, canonical_payload)
from backend.tokens.keys import IssuerKey, KeyRing, kid_for  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "codes.json")
NOW = 1_795_000_000  # 2026-11-18T08:26:40Z
IAT, EXP = NOW - 86_400, NOW + 6 * 86_400


def issuer(seed_byte):
    private = Ed25519PrivateKey.from_private_bytes(bytes([seed_byte]) * 32)
    return IssuerKey(kid_for(private.public_key()), private.public_key(), private, 0, 0)


class Device:
    def __init__(self, alg, seed):
        self.alg = alg
        if alg == "Ed25519":
            self.private = Ed25519PrivateKey.from_private_bytes(bytes([seed]) * 32)
            raw = self.private.public_key().public_bytes(serialization.Encoding.Raw,
                                                         serialization.PublicFormat.Raw)
            self.key = DeviceKey.from_raw("Ed25519", raw)
        else:
            self.private = ec.derive_private_key(int.from_bytes(bytes([seed]) * 32, "big") % (2**255),
                                                 ec.SECP256R1())
            point = self.private.public_key().public_bytes(
                serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
            self.key = DeviceKey.from_raw("P-256", point)

    def sign(self, message):
        if self.alg == "Ed25519":
            return self.private.sign(message)
        der = self.private.sign(message, ec.ECDSA(hashes.SHA256(), deterministic_signing=True))
        r, s = decode_dss_signature(der)
        return r.to_bytes(32, "big") + s.to_bytes(32, "big")

    def private_jwk(self):
        jwk = dict(self.key.jwk())
        if self.alg == "Ed25519":
            jwk["d"] = b64url(self.private.private_bytes(serialization.Encoding.Raw,
                                                         serialization.PrivateFormat.Raw,
                                                         serialization.NoEncryption()))
        else:
            jwk["d"] = b64url(self.private.private_numbers().private_value.to_bytes(32, "big"))
        return jwk


def claims(device, knd="med", n=1, fam=False, cls="emp", reg="330421", iat=IAT, exp=EXP):
    return Claims(sub=b64url(bytes([0x50 + n]) * 8), jti=b64url(bytes([n]) * 8), knd=knd, reg=reg,
                  cls=cls, fam=fam, iat=iat, exp=exp, device_key=device.key)


def credential(ring, c):
    from backend.tokens.credential import issue_credential

    return issue_credential(ring, c, c.iat)


def flip(code, index):
    """Change one byte of the binary form (index from the start) and re-encode."""
    data = bytearray(base45.decode(code[len(PREFIX):]))
    data[index] ^= 0x01
    return PREFIX + base45.encode(bytes(data))


def main(out=OUT):
    key_a, key_b, unknown = issuer(0xA1), issuer(0xB2), issuer(0xC3)
    ring = KeyRing([key_a])
    ring_b = KeyRing([key_b])
    ring_unknown = KeyRing([unknown])
    ed, p256 = Device("Ed25519", 0x11), Device("P-256", 0x22)
    step = step_at(NOW)
    verify, generation = [], []

    def valid(name, c, device, context, at_step=step, signer=ring):
        jws = credential(signer, c)
        code = make_code(jws, at_step, device.sign)
        verify.append({"name": name, "code": code, "context": context, "now": NOW, "valid": True,
                       "claims": {"sub": c.sub, "jti": c.jti, "knd": c.knd, "reg": c.reg,
                                  "cls": c.cls, "fam": c.fam, "iat": c.iat, "exp": c.exp},
                       "step": at_step, "jws": jws})
        return jws, code

    def invalid(name, code, context, error, reason, now=NOW):
        verify.append({"name": name, "code": code, "context": context, "now": now,
                       "valid": False, "error": error, "reason": reason})

    _, med = valid("med, Ed25519 phone", claims(ed, "med", 1), ed, "hospital")
    _, ss = valid("ss, Ed25519 phone", claims(ed, "ss", 2), ed, "bus")
    valid("med, P-256 phone", claims(p256, "med", 3, cls="res", reg="310118"), p256, "hospital")
    valid("ss, P-256 phone, family holder", claims(p256, "ss", 4, fam=True, reg="320509"), p256, "bus")
    valid("med, family holder", claims(ed, "med", 5, fam=True), ed, "hospital")
    valid("step one behind", claims(ed, "med", 6), ed, "hospital", step - 1)
    valid("step one ahead", claims(ed, "ss", 7), ed, "bus", step + 1)
    valid("second issuer key", claims(ed, "med", 8), ed, "hospital", signer=ring_b)

    # "exact": every encoder must give `code` byte for byte (Ed25519 signatures are deterministic);
    # false for ECDSA, where only the device signature may differ (spec §8).
    for c, device in ((claims(ed, "med", 1), ed),
                      (claims(p256, "ss", 4, fam=True, reg="320509"), p256)):
        jws = credential(ring, c)
        generation.append({"name": f"{c.knd}, {device.alg}", "credential": jws,
                           "device_private_jwk": device.private_jwk(), "step": step,
                           "code": make_code(jws, step, device.sign),
                           "exact": device.alg == "Ed25519"})

    other = Device("Ed25519", 0x33)
    jws = credential(ring, claims(ed, "med", 9))
    invalid("bad issuer signature", flip(med, 66 + 10), "hospital", "bad_signature",
            "one bit of the issuer signature changed")
    invalid("claims changed after signing", flip(med, 33), "hospital", "bad_signature",
            "exp changed: the rebuilt payload no longer matches the issuer signature")
    invalid("bad device signature", make_code(jws, step, other.sign), "hospital",
            "bad_device_signature", "signed by another phone's key")
    invalid("device signature over another step", flip(med, 131), "hospital",
            "bad_device_signature", "the step changed after the phone signed")
    invalid("ss code at a hospital", ss, "hospital", "wrong_kind", "a bus code shown at a hospital")
    invalid("med code on a bus", med, "bus", "wrong_kind", "a hospital code shown on a bus")
    invalid("expired credential", med, "hospital", "credential_expired",
            "verified after exp", now=EXP + 10)
    invalid("credential not yet valid", med, "hospital", "credential_not_yet_valid",
            "verified well before iat", now=IAT - 3600)
    invalid("step too old", make_code(jws, step - 2, ed.sign), "hospital", "code_expired",
            "two steps (60 s) behind the verifier's clock")
    invalid("step too new", make_code(jws, step + 2, ed.sign), "hospital", "code_not_yet_valid",
            "two steps ahead of the verifier's clock")
    invalid("unknown kid", make_code(credential(ring_unknown, claims(ed, "med", 10)), step, ed.sign),
            "hospital", "unknown_kid", "signed by a key not in the JWKS")
    revoked = claims(ed, "med", 11)
    invalid("revoked", make_code(credential(ring, revoked), step, ed.sign), "hospital",
            "credential_revoked", "its jti is on the revocation list")
    invalid("empty", "", "hospital", "code_malformed", "nothing scanned")
    invalid("wrong prefix", "YM2" + med[3:], "hospital", "code_malformed", "unknown format version")
    invalid("lowercase", med.lower(), "hospital", "code_malformed", "base45 is upper case")
    invalid("random text", "HELLO WORLD", "hospital", "code_malformed", "not a code")
    invalid("a URL", "https://example.com/?q=1", "bus", "code_malformed", "some other QR")
    for cut in (1, 2, 3, 150, len(med) - 3):
        invalid(f"truncated by {cut}", med[:-cut], "hospital", "code_malformed",
                "characters missing at the end")
    invalid("one extra triplet", med + "000", "hospital", "code_malformed", "wrong length")
    invalid("character outside the alphabet", med[:50] + "#" + med[51:], "hospital",
            "code_malformed", "# is not base45")
    invalid("lowercase letter inside", med[:60] + "a" + med[61:], "hospital", "code_malformed",
            "a is not base45")
    invalid("base45 triplet out of range", med[:3] + ":::" + med[6:], "hospital", "code_malformed",
            "::: is 91124, more than 65535")
    invalid("flag high bit set", _with_flags(med, 0x10), "hospital",
            "code_malformed", "unknown flag bit")
    invalid("P-256 flag on an Ed25519 code", _with_flags(med, 0x04), "hospital",
            "code_malformed", "length does not match the key type")
    invalid("invalid P-256 point", _bad_point(valid_p256=verify[2]["code"]), "hospital",
            "code_malformed", "the device key is not a point on the curve")

    # Spec §3.3: exactly TAB, LF, CR, GS and space are stripped around a code, nothing else.
    med_vector = verify[0]
    for name, text in (("GS after", med + "\x1d"), ("CR LF after", med + "\r\n"),
                       ("TAB before, LF after", "\t" + med + "\n"),
                       ("spaces around", "  " + med + " ")):
        verify.append({**med_vector, "name": f"scanner whitespace: {name}", "code": text})
    for name, char in (("NBSP U+00A0", "\u00a0"), ("LINE SEPARATOR U+2028", "\u2028"),
                       ("IDEOGRAPHIC SPACE U+3000", "\u3000"), ("BOM U+FEFF", "\ufeff"),
                       ("VT U+000B", "\x0b"), ("FF U+000C", "\x0c"), ("NEL U+0085", "\x85"),
                       ("FS U+001C", "\x1c")):
        invalid(f"{name} around the code", char + med + char, "hospital", "code_malformed",
                "not one of TAB, LF, CR, GS, space: not stripped, so not base45")
    invalid("CR LF inside the code", med[:150] + "\r\n" + med[150:], "hospital",
            "code_malformed", "whitespace is stripped around a code only")

    # Spec §4 check 1: claims in range. Signed by the issuer, so only the range check refuses them.
    for name, iat, exp in (("iat zero", 0, EXP), ("iat equal to exp", NOW + 10, NOW + 10),
                           ("iat after exp", NOW + 20, NOW + 10)):
        c = claims(ed, "med", 12, iat=iat, exp=exp)
        invalid(f"{name}, issuer-signed", _signed_anyway(key_a, c, step, ed.sign), "hospital",
                "code_malformed", "check 1 needs 0 < iat < exp; the issuer's signature is good")
    invalid("region above 999999", _with_bytes(med, 23, b"\xff\xff\xff"), "hospital",
            "code_malformed", "reg 16777215 has more than 6 digits")

    # Spec §4 check 1: the device key is a valid point. The issuer signed each of these keys, so
    # a verifier that skips the check gets as far as the device signature (or, for a key of small
    # order, accepts a signature that anyone can forge).
    forged = _ed25519_base_point() + (1).to_bytes(32, "little")  # R = B, S = 1
    for name, raw, device_signature in (
            ("not on the curve", (2).to_bytes(32, "little"), bytes(64)),
            ("y not below p", (P25519 + 3).to_bytes(32, "little"), bytes(64)),
            ("x = 0 with the sign bit", (1 + (1 << 255)).to_bytes(32, "little"), forged),
            ("of small order: the neutral element", (1).to_bytes(32, "little"), forged),
            ("of small order 8", bytes.fromhex(
                "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05"), bytes(64))):
        c = claims(DeviceKeyUnchecked(raw), "med", 13)
        invalid(f"Ed25519 device key {name}, issuer-signed",
                _signed_anyway(key_a, c, step, lambda message: device_signature), "hospital",
                "code_malformed", "the device key is not a valid Ed25519 point (RFC 8032 §5.1.3, "
                "not of small order)")
    invalid("P-256 device key off the curve, x < p", _off_curve_p256(verify[2]["code"]),
            "hospital", "code_malformed", "x³ − 3x + b is not a square mod p: no y")
    invalid("P-256 device key with prefix 04", _with_bytes(verify[2]["code"], 34, b"\x04"),
            "hospital", "code_malformed", "a compressed point starts with 02 or 03")

    document = {
        "format": "YM1",
        "description": "Yima code test vectors (docs/token-format.md). Generated by "
                       "tests/vectors/generate.py; do not edit by hand.",
        "window": 1,
        "issuer_jwks": {"keys": [key_a.jwk(), key_b.jwk()]},
        "revoked_jti": [revoked.jti],
        "generation": generation,
        "verify": verify,
    }
    with open(out, "w") as handle:
        json.dump(document, handle, indent=1, ensure_ascii=False)
        handle.write("\n")
    return document


P25519 = 2 ** 255 - 19
P256_P = 2 ** 256 - 2 ** 224 + 2 ** 192 + 2 ** 96 - 1
P256_B = 0x5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604b


class DeviceKeyUnchecked:
    """A device (Ed25519) key as raw bytes, valid or not, for vectors the library would refuse."""

    def __init__(self, raw):
        self.raw = raw
        self.key = self  # a device of its own, for claims()

    def jwk(self):
        return {"kty": "OKP", "crv": "Ed25519", "x": b64url(self.raw)}


def _signed_anyway(issuer_key, c, step, sign):
    """A code whose credential the issuer signed without the library's checks: the canonical
    header and payload of spec §2, packed by hand (spec §3.1)."""
    header, payload = canonical_header(issuer_key.kid), canonical_payload(c)  # no checks
    signature = issuer_key.private_key.sign(b64url(header).encode() + b"." + b64url(payload).encode())
    flags = (c.knd == "ss") | (c.cls == "res") << 1 | c.fam << 3
    binary = (bytes((flags,)) + b64url_decode(issuer_key.kid) + b64url_decode(c.sub)
              + b64url_decode(c.jti) + int(c.reg).to_bytes(3, "big") + c.iat.to_bytes(4, "big")
              + c.exp.to_bytes(4, "big") + _raw_key(c.device_key) + signature
              + step.to_bytes(4, "big"))
    return PREFIX + base45.encode(binary + sign(device_message(b64url_decode(c.jti), c.knd, step)))


def _raw_key(device_key):
    return device_key.raw if isinstance(device_key, DeviceKeyUnchecked) else device_key.packed()


def _ed25519_base_point():
    y = 4 * pow(5, P25519 - 2, P25519) % P25519  # B = (x, 4/5) with x even: sign bit 0
    return y.to_bytes(32, "little")


def _off_curve_p256(valid_p256):
    """The valid P-256 code with its device key's x moved to the next x < p with no y."""
    data = bytearray(base45.decode(valid_p256[len(PREFIX):]))
    x = int.from_bytes(data[35:67], "big")
    while True:
        x += 1
        if pow((x ** 3 - 3 * x + P256_B) % P256_P, (P256_P - 1) // 2, P256_P) == P256_P - 1:
            break
    data[35:67] = x.to_bytes(32, "big")
    return PREFIX + base45.encode(bytes(data))


def _with_bytes(code, offset, replacement):
    data = bytearray(base45.decode(code[len(PREFIX):]))
    data[offset:offset + len(replacement)] = replacement
    return PREFIX + base45.encode(bytes(data))


def _with_flags(code, bits):
    data = bytearray(base45.decode(code[len(PREFIX):]))
    data[0] |= bits
    return PREFIX + base45.encode(bytes(data))


def _bad_point(valid_p256):
    data = bytearray(base45.decode(valid_p256[len(PREFIX):]))
    data[34] = 0x02
    data[35:67] = b"\xff" * 32  # x >= p: not a field element, so not a point
    return PREFIX + base45.encode(bytes(data))


if __name__ == "__main__":
    target = sys.argv[1] if len(sys.argv) > 1 else OUT
    main(target)
    print(f"wrote {target}")
