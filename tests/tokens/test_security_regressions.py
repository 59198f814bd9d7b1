"""Regression tests for attacks on the code format. Each names what it guards against."""
import base64
import json

import pytest
from fuzzing import examples
from hypothesis import given, settings
from hypothesis import strategies as st

from backend.tokens import base45
from backend.tokens.code import PREFIX, decode_code, make_code, step_at
from backend.tokens.credential import (Claims, DeviceKey, issue_credential, new_credential_id,
                                       new_pseudonym)
from backend.tokens.errors import (BadDeviceSignature, BadSignature, CodeExpired,
                                   CredentialExpired, TokenError)
from backend.tokens.keys import KeyRing
from backend.tokens.verify import VerifiedCredentials, verify
from phones import Phone

NOW = 1_800_000_000


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    ring = KeyRing.open(str(tmp_path_factory.mktemp("keys"))).ensure(NOW - 100)
    phone = Phone()
    claims = Claims(sub="AAAAAAAAAAA", jti="BBBBBBBBBBA", knd="med", reg="310118", cls="emp",
                    fam=False, iat=NOW - 100, exp=NOW + 86_400,
                    device_key=DeviceKey.from_jwk(phone.jwk()))
    code = make_code(issue_credential(ring, claims, NOW - 100), step_at(NOW), phone.sign)
    return ring, code


def check(ring, code):
    return verify(code, issuer_keys=ring.public_keys(NOW), expected_kind="med", now=NOW)


def test_the_algorithm_cannot_be_chosen_by_the_code(setup):
    """alg is implied (EdDSA): a code has no header field an attacker could set to none/HS256."""
    ring, code = setup
    decoded = decode_code(code)
    assert json.loads(base64.urlsafe_b64decode(decoded.jws().split(".")[0] + "=="))["alg"] == "EdDSA"


def test_a_code_signed_by_a_foreign_key_with_a_known_kid_fails(setup, tmp_path):
    """Forging with one's own key but claiming the issuer's kid."""
    ring, code = setup
    forged_ring = KeyRing.open(str(tmp_path)).ensure(NOW - 100)
    phone = Phone()
    claims = Claims(sub="AAAAAAAAAAA", jti="CCCCCCCCCCA", knd="med", reg="310118", cls="emp",
                    fam=False, iat=NOW - 100, exp=NOW + 86_400,
                    device_key=DeviceKey.from_jwk(phone.jwk()))
    forged = bytearray(base45.decode(
        make_code(issue_credential(forged_ring, claims, NOW - 100), step_at(NOW), phone.sign)[3:]))
    forged[1:7] = base45.decode(code[3:])[1:7]  # the real issuer's kid
    with pytest.raises(TokenError) as refused:
        check(ring, PREFIX + base45.encode(bytes(forged)))
    assert refused.value.code == "bad_signature"


def test_surrounding_whitespace_from_a_scanner_is_accepted(setup):
    ring, code = setup
    assert check(ring, "  " + code + "\r\n").claims.jti == "BBBBBBBBBBA"


@settings(max_examples=examples(300), deadline=None)
@given(st.text(max_size=400))
def test_arbitrary_text_is_refused_cleanly(setup, text):
    ring, _ = setup
    with pytest.raises(TokenError):
        check(ring, text)


@settings(max_examples=examples(200), deadline=None)
@given(st.binary(min_size=0, max_size=260))
def test_arbitrary_bytes_in_the_code_alphabet_are_refused_cleanly(setup, data):
    ring, _ = setup
    with pytest.raises(TokenError):
        check(ring, PREFIX + base45.encode(data))


@settings(max_examples=examples(300), deadline=None)
@given(st.data())
def test_any_single_change_to_a_valid_code_is_refused(setup, data):
    ring, code = setup
    raw = bytearray(base45.decode(code[3:]))
    index = data.draw(st.integers(0, len(raw) - 1))
    raw[index] ^= data.draw(st.integers(1, 255))
    with pytest.raises(TokenError):
        check(ring, PREFIX + base45.encode(bytes(raw)))


@settings(max_examples=examples(200), deadline=None)
@given(st.data())
def test_any_single_character_change_is_refused(setup, data):
    ring, code = setup
    index = data.draw(st.integers(0, len(code) - 1))
    char = data.draw(st.characters(codec="utf-8"))
    mutated = code[:index] + char + code[index + 1:]
    if mutated.strip() == code:
        return
    with pytest.raises(TokenError):
        check(ring, mutated)


@pytest.mark.parametrize("value", [None, 42, b"YM1", ["YM1"], "YM1" * 1000])
def test_non_strings_and_huge_inputs_are_malformed(setup, value):
    ring, _ = setup
    with pytest.raises(TokenError) as refused:
        check(ring, value)
    assert refused.value.code == "code_malformed"


# -- the verified-credentials memory (ride ingest) --------------------------------------------

def _ss_code(ring, phone, now, sign=None, exp_offset=7 * 86_400):
    claims = Claims(sub=new_pseudonym(), jti=new_credential_id(), knd="ss", reg="330421",
                    cls="res", fam=False, iat=now - 60, exp=now + exp_offset,
                    device_key=DeviceKey.from_jwk(phone.jwk()))
    credential = issue_credential(ring, claims, now - 60)
    return credential, make_code(credential, step_at(now), sign or phone.sign)


def test_a_remembered_credential_still_needs_the_phones_signature_and_its_expiry(tmp_path):
    now = 1_800_000_000
    ring = KeyRing.open(str(tmp_path / "keys")).ensure(now - 86_400)
    keys = ring.public_keys(now)
    memory = VerifiedCredentials(size=2)
    phone, thief = Phone(), Phone()
    credential, code = _ss_code(ring, phone, now)
    verify(code, issuer_keys=keys, expected_kind="ss", now=now, verified_credentials=memory)
    assert len(memory) == 1
    # The same credential, but signed by a phone that does not hold its device key.
    stolen = make_code(credential, step_at(now), thief.sign)
    with pytest.raises(BadDeviceSignature):
        verify(stolen, issuer_keys=keys, expected_kind="ss", now=now, verified_credentials=memory)
    # An old code of a remembered credential is still out of its window.
    with pytest.raises(CodeExpired):
        verify(code, issuer_keys=keys, expected_kind="ss", now=now + 120, verified_credentials=memory)
    # A credential altered in one issuer-signature bit is not the remembered one.
    data = bytearray(base45.decode(code[3:]))
    data[34 + 32 + 10] ^= 1
    with pytest.raises(BadSignature):
        verify("YM1" + base45.encode(bytes(data)), issuer_keys=keys, expected_kind="ss", now=now,
               verified_credentials=memory)
    # Expiry is checked on every code, remembered or not.
    _, short = _ss_code(ring, phone, now, exp_offset=60)
    verify(short, issuer_keys=keys, expected_kind="ss", now=now, verified_credentials=memory)
    with pytest.raises(CredentialExpired):
        verify(short, issuer_keys=keys, expected_kind="ss", now=now + 60, verified_credentials=memory)
    # Bounded: a third credential pushes the oldest out.
    assert len(memory) == 2
    _, third = _ss_code(ring, phone, now)
    verify(third, issuer_keys=keys, expected_kind="ss", now=now, verified_credentials=memory)
    assert len(memory) == 2
