"""Write tests/vectors/certificates.json: insurance certificates (docs/token-format.md §9) signed
by fixed keys, valid and refused, each refusal with its error. Deterministic (Ed25519), so running
it again reproduces the committed file byte for byte:

    .venv/bin/python tests/vectors/generate_certificates.py [OUT.json]
"""
import json
import os
import sys
from dataclasses import asdict, replace

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, ROOT)

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey  # noqa: E402

from backend.tokens import base45  # noqa: E402
from backend.tokens.certificate import (CertificateClaims, canonical_payload,  # noqa: E402
                                        decode_certificate, issue_certificate)
from backend.tokens.credential import b64url, canonical_header  # noqa: E402
from backend.tokens.keys import IssuerKey, KeyRing, kid_for  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "certificates.json")
NOW = 1_795_000_000  # 2026-11-18T08:26:40Z
IAT, EXP = NOW - 86_400, NOW + 89 * 86_400


def issuer(seed_byte):
    private = Ed25519PrivateKey.from_private_bytes(bytes([seed_byte]) * 32)
    return IssuerKey(kid_for(private.public_key()), private.public_key(), private, 0, 0)


def claims(n=1, **changes):
    base = CertificateClaims(jti=b64url(bytes([0x20 + n]) * 8), name="沈桂芳",
                             idm="330421********0025", reg="330421", sch="emp", sts="active",
                             since="2001-07-01", pfrom="2025-11-17", pto="2026-11-17",
                             iat=IAT, exp=EXP)
    return replace(base, **changes)


def binary(text):
    return bytearray(base45.decode(text[3:]))


def text_of(data):
    return "YC1" + base45.encode(bytes(data))




def main(out=OUT):
    key, foreign = issuer(0x11), issuer(0x77)
    ring = KeyRing([key])
    verify = []

    def valid(name, c, text=None, now=NOW):
        jws, packed = issue_certificate(ring, c, c.iat)
        verify.append({"name": name, "text": text if text is not None else packed, "now": now,
                       "valid": True, "claims": asdict(c), "jws": jws})
        return packed

    def invalid(name, text, error, reason, now=NOW):
        verify.append({"name": name, "text": text, "now": now, "valid": False, "error": error,
                       "reason": reason})

    shen = valid("沈桂芳, employee, active", claims())
    valid("resident, suspended, a quote in the name", claims(2, name='王"小二', sch="res",
                                                            sts="suspended", idm="320509********071X",
                                                            reg="320509"))
    valid("the longest name the registry allows", claims(3, name="欧阳" + "娜" * 62))
    valid("a scanner's Enter and tab around it", claims(), text="\t" + shen + "\r\n")
    valid("checked the moment before it expires", claims(), now=EXP - 1)
    valid("a checker's clock 5 minutes behind", claims(), now=IAT - 300)

    invalid("expired", shen, "certificate_expired", "now = exp", now=EXP)
    invalid("dated in the future", shen, "certificate_not_yet_valid", "now < iat - 300",
            now=IAT - 301)
    revoked = issue_certificate(ring, claims(9), IAT)[1]
    invalid("revoked", revoked, "certificate_revoked", "its jti is on the revocation list")
    invalid("another issuer's key", issue_certificate(KeyRing([foreign]), claims(), IAT)[1],
            "unknown_kid", "signed by a key that is not in the JWKS")
    data = binary(shen)
    data[43] ^= 0x01  # 沈 -> another character: the name changed after signing
    invalid("the name changed", text_of(data), "bad_signature", "one byte of the name flipped")
    data = binary(shen)
    data[29] ^= 0x01  # exp moved
    invalid("the validity stretched", text_of(data), "bad_signature", "exp changed after signing")
    data = binary(shen)
    data[-1] ^= 0x01
    invalid("the signature changed", text_of(data), "bad_signature", "last signature byte flipped")

    invalid("a code's prefix", "YM1" + shen[3:], "certificate_malformed", "prefix is not YC1")
    invalid("not base45", shen[:-1] + "a", "certificate_malformed", "a lowercase letter")
    invalid("NBSP around it", "\u00a0" + shen, "certificate_malformed", "only TAB LF CR GS space are stripped")
    invalid("cut short", shen[:-3], "certificate_malformed", "two bytes missing")
    data = binary(shen)
    data[0] |= 0x04
    invalid("unknown flag", text_of(data), "certificate_malformed", "flags bit 2 set")
    data = binary(shen)
    data[42] += 1
    invalid("name length wrong", text_of(data), "certificate_malformed", "the name length byte says one more")
    data = binary(shen)
    data[20:22] = (0xFFFF).to_bytes(2, "big")  # from after to
    invalid("period backwards", text_of(data), "certificate_malformed", "from is after to")
    data = binary(shen)
    data[43:46] = b"\\ab"
    invalid("backslash in the name", text_of(data), "certificate_malformed", "a backslash in the name")
    data = binary(shen)
    data[43] = 0xFF
    invalid("not UTF-8", text_of(data), "certificate_malformed", "the name is not UTF-8")
    data = binary(shen)
    data[35] = ord("A")
    invalid("bad ID mask", text_of(data), "certificate_malformed", "a letter among the visible ID digits")
    data = binary(shen)
    data[24:28] = (0).to_bytes(4, "big")
    invalid("iat zero", text_of(data), "certificate_malformed", "iat = 0")

    document = {
        "format": "YC1",
        "issuer_jwks": {"keys": [key.jwk()]},
        "revoked_jti": [claims(9).jti],
        "verify": verify,
    }
    for vector in verify:  # each valid vector expands to its JWS
        if vector["valid"]:
            decoded = decode_certificate(vector["text"])
            assert decoded.jws() == vector["jws"], vector["name"]
            assert decoded.signing_input.split(b".")[0].decode() == b64url(canonical_header(key.kid))
            assert canonical_payload(decoded.unverified_claims)
    with open(out, "w", encoding="utf-8") as handle:
        json.dump(document, handle, indent=1, ensure_ascii=False)
        handle.write("\n")


if __name__ == "__main__":
    main(*sys.argv[1:])
