"""The shared test vectors (tests/vectors/codes.json) through the Python verifier. The JavaScript
verifier runs the same file in Chromium (tests/browser/test_code_js.py)."""
import json
import os
import subprocess
import sys

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from backend.tokens.code import decode_code, make_code
from backend.tokens.credential import DeviceKey, b64url_decode
from backend.tokens.errors import TokenError
from backend.tokens.verify import CONTEXT_KINDS, verify

HERE = os.path.dirname(os.path.abspath(__file__))
VECTORS_PATH = os.path.join(HERE, "..", "vectors", "codes.json")
with open(VECTORS_PATH) as handle:
    VECTORS = json.load(handle)


def issuer_keys():
    return {k["kid"]: DeviceKey.from_jwk({"kty": "OKP", "crv": "Ed25519", "x": k["x"]}).public_key
            for k in VECTORS["issuer_jwks"]["keys"]}


def run(vector):
    return verify(vector["code"], issuer_keys=issuer_keys(),
                  expected_kind=CONTEXT_KINDS[vector["context"]], now=vector["now"],
                  window=VECTORS["window"], is_revoked=set(VECTORS["revoked_jti"]).__contains__)


@pytest.mark.parametrize("vector", [v for v in VECTORS["verify"] if v["valid"]], ids=lambda v: v["name"])
def test_valid_vectors_verify(vector):
    result = run(vector)
    claims = result.claims
    assert {"sub": claims.sub, "jti": claims.jti, "knd": claims.knd, "reg": claims.reg,
            "cls": claims.cls, "fam": claims.fam, "iat": claims.iat, "exp": claims.exp} == vector["claims"]
    assert result.step == vector["step"]
    assert decode_code(vector["code"]).jws() == vector["jws"]


@pytest.mark.parametrize("vector", [v for v in VECTORS["verify"] if not v["valid"]], ids=lambda v: v["name"])
def test_invalid_vectors_are_refused_with_their_code(vector):
    with pytest.raises(TokenError) as refused:
        run(vector)
    assert refused.value.code == vector["error"], vector["reason"]


def _signer(jwk):
    d = b64url_decode(jwk["d"])
    if jwk["kty"] == "OKP":
        return Ed25519PrivateKey.from_private_bytes(d).sign
    key = ec.derive_private_key(int.from_bytes(d, "big"), ec.SECP256R1())

    def sign(message):
        r, s = decode_dss_signature(key.sign(message, ec.ECDSA(hashes.SHA256(), deterministic_signing=True)))
        return r.to_bytes(32, "big") + s.to_bytes(32, "big")
    return sign


@pytest.mark.parametrize("vector", VECTORS["generation"], ids=lambda v: v["name"])
def test_generation_vectors_reproduce(vector):
    code = make_code(vector["credential"], vector["step"], _signer(vector["device_private_jwk"]))
    assert code == vector["code"]  # deterministic ECDSA in Python; WebCrypto's is randomized


def test_every_error_code_has_a_vector():
    from backend.tokens.errors import CODES

    covered = {v["error"] for v in VECTORS["verify"] if not v["valid"]}
    assert covered == set(CODES) - {"code_replayed"}  # replay is the verifier's own state


def test_the_generator_reproduces_the_committed_file(tmp_path):
    again = tmp_path / "codes.json"
    subprocess.run([sys.executable, os.path.join(HERE, "..", "vectors", "generate.py"), str(again)],
                   check=True, capture_output=True)
    with open(VECTORS_PATH, "rb") as committed:
        assert again.read_bytes() == committed.read()
