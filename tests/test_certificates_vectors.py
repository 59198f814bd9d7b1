"""The certificate test vectors (tests/vectors/certificates.json) through the Python verifier. The
browser's verifier runs the same file in Chromium (tests/browser/test_certificate_js.py)."""
import json
import os
import subprocess
import sys
from dataclasses import asdict

import pytest

from backend.tokens.certificate import CODES, decode_certificate, verify_certificate
from backend.tokens.credential import DeviceKey
from backend.tokens.errors import TokenError

HERE = os.path.dirname(os.path.abspath(__file__))
VECTORS_PATH = os.path.join(HERE, "vectors", "certificates.json")
with open(VECTORS_PATH, encoding="utf-8") as handle:
    VECTORS = json.load(handle)
KEYS = {k["kid"]: DeviceKey.from_jwk({"kty": "OKP", "crv": "Ed25519", "x": k["x"]}).public_key
        for k in VECTORS["issuer_jwks"]["keys"]}


def run(vector):
    return verify_certificate(vector["text"], issuer_keys=KEYS, now=vector["now"],
                              is_revoked=set(VECTORS["revoked_jti"]).__contains__)


@pytest.mark.parametrize("vector", [v for v in VECTORS["verify"] if v["valid"]], ids=lambda v: v["name"])
def test_valid_vectors_verify(vector):
    verified = run(vector)
    assert asdict(verified.claims) == vector["claims"]
    assert verified.jws == vector["jws"] == decode_certificate(vector["text"]).jws()


@pytest.mark.parametrize("vector", [v for v in VECTORS["verify"] if not v["valid"]], ids=lambda v: v["name"])
def test_invalid_vectors_are_refused_with_their_code(vector):
    with pytest.raises(TokenError) as refused:
        run(vector)
    assert refused.value.code == vector["error"], vector["reason"]


def test_every_certificate_error_has_a_vector():
    assert {v["error"] for v in VECTORS["verify"] if not v["valid"]} == set(CODES)


def test_the_generator_reproduces_the_committed_file(tmp_path):
    again = tmp_path / "certificates.json"
    subprocess.run([sys.executable, os.path.join(HERE, "vectors", "generate_certificates.py"),
                    str(again)], check=True, capture_output=True)
    with open(VECTORS_PATH, "rb") as committed:
        assert again.read_bytes() == committed.read()
