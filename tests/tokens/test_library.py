"""The token library on its own: base45, keys and rotation, round trips, QR size, JOSE interop."""
import json
import os
import stat

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from jwcrypto import jwk as jwcrypto_jwk
from jwcrypto import jws as jwcrypto_jws
from phones import Phone

from backend.service.qr import qr_version
from backend.tokens import base45
from backend.tokens.code import decode_code, make_code, step_at
from backend.tokens.credential import (Claims, DeviceKey, issue_credential, new_credential_id,
                                       new_pseudonym)
from backend.tokens.errors import CredentialExpired, Malformed, UnknownKey
from backend.tokens.keys import KeyRing
from backend.tokens.verify import verify

NOW = 1_800_000_000
DAY = 86_400


@pytest.mark.parametrize("raw, text", [(b"AB", "BB8"), (b"Hello!!", "%69 VD92EX0"),
                                       (b"base-45", "UJCLQE7W581"), (b"", "")])
def test_base45_rfc9285_examples(raw, text):
    assert base45.encode(raw) == text
    assert base45.decode(text) == raw


@pytest.mark.parametrize("text", ["GGW", "A", "ZZZZ", "ab", "GG#"])
def test_base45_refuses_bad_text(text):
    with pytest.raises(Malformed):
        base45.decode(text)


def claims_for(phone, kind="med", iat=NOW, exp=NOW + 7 * DAY, fam=False):
    return Claims(sub=new_pseudonym(), jti=new_credential_id(), knd=kind, reg="320509", cls="res",
                  fam=fam, iat=iat, exp=exp, device_key=DeviceKey.from_jwk(phone.jwk()))


@pytest.fixture
def ring(tmp_path):
    return KeyRing.open(str(tmp_path / "keys")).ensure(NOW - DAY)


@pytest.mark.parametrize("alg", ["Ed25519", "P-256"])
@pytest.mark.parametrize("kind, context", [("med", "hospital"), ("ss", "bus")])
@pytest.mark.parametrize("fam", [False, True])
def test_round_trip_and_qr_size(ring, alg, kind, context, fam):
    phone = Phone(alg)
    c = claims_for(phone, kind, fam=fam)
    jws = issue_credential(ring, c, NOW)
    code = make_code(jws, step_at(NOW), phone.sign)
    assert len(code) == (300 if alg == "Ed25519" else 302)
    assert qr_version(code) <= 10
    result = verify(code, issuer_keys=ring.public_keys(NOW), expected_kind=kind, now=NOW + 10)
    assert result.claims == c
    assert decode_code(code).jws() == jws


def test_an_independent_jose_library_verifies_the_expanded_credential(ring):
    phone = Phone()
    jws = issue_credential(ring, claims_for(phone), NOW)
    expanded = decode_code(make_code(jws, step_at(NOW), phone.sign)).jws()
    keyset = jwcrypto_jwk.JWKSet.from_json(json.dumps(ring.jwks(NOW)))
    token = jwcrypto_jws.JWS()
    token.deserialize(expanded)
    kid = token.jose_header["kid"]
    token.verify(keyset.get_key(kid), alg="EdDSA")
    assert json.loads(token.payload)["cnf"]["jwk"] == phone.jwk()


def test_rotation_overlap_and_pruning(tmp_path):
    directory = str(tmp_path / "keys")
    ring = KeyRing.open(directory).ensure(NOW)
    old = ring.signing_key(NOW)
    phone = Phone()
    old_jws = issue_credential(ring, claims_for(phone, iat=NOW, exp=NOW + 7 * DAY), NOW)
    new = ring.rotate(NOW + 10, overlap_seconds=DAY, max_credential_lifetime=7 * DAY)
    assert new.kid in ring.public_keys(NOW + 10)  # published at once ...
    assert ring.signing_key(NOW + 10).kid == old.kid  # ... but signs only after the overlap
    assert ring.signing_key(NOW + 10 + DAY).kid == new.kid
    reopened = KeyRing.open(directory)  # what another worker sees
    assert reopened.signing_key(NOW + 10 + DAY).kid == new.kid
    code = make_code(old_jws, step_at(NOW + 6 * DAY), phone.sign)
    result = verify(code, issuer_keys=reopened.public_keys(NOW + 6 * DAY), expected_kind="med",
                    now=NOW + 6 * DAY)
    assert result.claims.jti
    assert reopened.prune(NOW + 2 * DAY) == []
    assert reopened.prune(NOW + 10 + DAY + 7 * DAY) == [old.kid]
    assert old.kid not in KeyRing.open(directory).public_keys(NOW + 9 * DAY)
    assert not os.path.exists(os.path.join(directory, f"{old.kid}.pem"))
    with pytest.raises((UnknownKey, CredentialExpired)):
        verify(code, issuer_keys=KeyRing.open(directory).public_keys(NOW + 9 * DAY),
               expected_kind="med", now=NOW + 6 * DAY)


def test_a_ring_created_on_first_use_signs_for_a_request_that_read_the_clock_before(tmp_path):
    """CI: a phone's first activation read the clock, then created the ring a second later, and
    its key did not sign yet ("no key may sign at this time")."""
    ring = KeyRing.open(str(tmp_path / "keys")).ensure(NOW + 1)
    assert ring.signing_key(NOW).kid == ring.signing_key(NOW + 1).kid
    assert KeyRing.open(str(tmp_path / "keys")).signing_key(NOW).kid == ring.signing_key(NOW).kid


def test_private_keys_stay_private(tmp_path):
    directory = tmp_path / "keys"
    ring = KeyRing.open(str(directory)).ensure(NOW)
    key = ring.signing_key(NOW)
    pem = (directory / f"{key.kid}.pem").read_bytes()
    assert stat.S_IMODE(os.stat(directory / f"{key.kid}.pem").st_mode) == 0o600
    assert stat.S_IMODE(os.stat(directory).st_mode) == 0o700
    private = serialization.load_pem_private_key(pem, password=None)
    d = private.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                              serialization.NoEncryption())
    import base64
    d_text = base64.urlsafe_b64encode(d).rstrip(b"=").decode()
    for public_text in (json.dumps(ring.jwks(NOW)), (directory / "ring.json").read_text(),
                        repr(ring), repr(key), str(key), json.dumps(ring.describe())):
        assert d_text not in public_text and "PRIVATE" not in public_text


def test_a_configured_pem_file_is_a_single_key_ring(tmp_path):
    private = Ed25519PrivateKey.generate()
    path = tmp_path / "issuer.pem"
    path.write_bytes(private.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    ring = KeyRing.from_pem_file(str(path))
    assert len(ring.jwks(NOW)["keys"]) == 1 and ring.signing_key(NOW)


def test_a_non_canonical_credential_cannot_become_a_code(ring):
    import jwt

    phone = Phone()
    key = ring.signing_key(NOW)
    payload = {"iss": "yima", "sub": new_pseudonym(), "jti": new_credential_id(), "knd": "med",
               "reg": "330421", "cls": "emp", "iat": NOW, "exp": NOW + DAY,
               "cnf": {"jwk": phone.jwk()}, "name": "not allowed"}
    token = jwt.encode(payload, key.private_key, algorithm="EdDSA", headers={"kid": key.kid})
    with pytest.raises(Malformed):
        make_code(token, step_at(NOW), phone.sign)


def _ed25519_decodes(raw):
    """Reference for spec §4 check 1 (Ed25519), as RFC 8032 §5.1.3 says, with Euler's criterion
    and the point arithmetic spelt out: x recovered, then 8·A computed."""
    p = 2 ** 255 - 19
    d = -121665 * pow(121666, p - 2, p) % p
    encoded = int.from_bytes(raw, "little")
    y, sign = encoded & ((1 << 255) - 1), encoded >> 255
    if y >= p:
        return False
    u, v = (y * y - 1) % p, (d * y * y + 1) % p
    x2 = u * pow(v, p - 2, p) % p
    x = pow(x2, (p + 3) // 8, p)
    if (x * x - x2) % p:
        x = x * pow(2, (p - 1) // 4, p) % p
    if (x * x - x2) % p or (x == 0 and sign):
        return False
    point = (x, y)
    for _ in range(3):  # 8·A by doubling (Edwards addition: complete, no special cases)
        (x1, y1) = point
        t = d * x1 * x1 * y1 * y1 % p
        point = (2 * x1 * y1 * pow(1 + t, p - 2, p) % p,
                 (y1 * y1 + x1 * x1) * pow(1 - t, p - 2, p) % p)
    return point != (0, 1)  # the neutral element: A was of small order


def test_the_ed25519_point_check_agrees_with_rfc_8032_and_the_order():
    import secrets

    from backend.tokens.credential import ED25519_SMALL_ORDER_Y, check_ed25519_point

    def accepted(raw):
        try:
            check_ed25519_point(raw)
        except ValueError:
            return False
        return True
    p = 2 ** 255 - 19
    samples = [secrets.token_bytes(32) for _ in range(400)]
    samples += [Ed25519PrivateKey.generate().public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw) for _ in range(100)]
    samples += [(y + (sign << 255)).to_bytes(32, "little") for y in ED25519_SMALL_ORDER_Y
                for sign in (0, 1)]
    samples += [(p + k).to_bytes(32, "little") for k in range(19)]  # y ≥ p: never canonical
    outcomes = [(accepted(raw), _ed25519_decodes(raw)) for raw in samples]
    assert all(ours == reference for ours, reference in outcomes)
    assert {ours for ours, _ in outcomes} == {True, False}
    assert all(ours for ours, _ in outcomes[400:500])  # every real public key
