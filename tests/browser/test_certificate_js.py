"""The certificate verifier in Chromium (pwa/js/screens/certificate-format.js) against the shared
vectors (tests/vectors/certificates.json), and a certificate issued by the Python library checked
in the browser."""
import json
import os
import time

from backend.tokens.certificate import CertificateClaims, issue_certificate
from backend.tokens.keys import KeyRing

HERE = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(HERE, "..", "vectors", "certificates.json"), encoding="utf-8") as handle:
    VECTORS = json.load(handle)

RUN = """async ([v, extra]) => {
    const cert = await import('/pwa/js/screens/certificate-format.js');
    const out = [];
    for (const t of v.verify) out.push(await cert.verifyCertificate(t.text,
        {jwks: v.issuer_jwks, revokedJti: v.revoked_jti, now: t.now}));
    const mine = await cert.verifyCertificate(extra.text, {jwks: extra.jwks, now: extra.now});
    return {out, mine};
}"""


def test_vectors_and_a_python_certificate_in_the_browser(page, static_origin, tmp_path):
    now = int(time.time())
    ring = KeyRing.open(str(tmp_path / "keys")).ensure(now - 60)
    claims = CertificateClaims(jti="AAAAAAAAAAA", name="阿依古丽·买买提", idm="320509********071X",
                               reg="320509", sch="res", sts="active", since="2010-01-01",
                               pfrom="2026-01-01", pto="2026-11-29", iat=now, exp=now + 86_400)
    jws, text = issue_certificate(ring, claims, now)
    page.goto(static_origin + "/tests/browser/blank.html")
    result = page.evaluate(RUN, [VECTORS, {"text": text, "jwks": ring.jwks(now), "now": now}])
    for vector, got in zip(VECTORS["verify"], result["out"], strict=True):
        if vector["valid"]:
            expected = {"ok": True, "claims": vector["claims"], "jws": vector["jws"],
                        "kid": VECTORS["issuer_jwks"]["keys"][0]["kid"]}
            assert got == expected, vector["name"]
        else:
            assert got == {"ok": False, "error": vector["error"]}, (vector["name"], vector["reason"])
    assert result["mine"]["ok"] and result["mine"]["jws"] == jws
    assert result["mine"]["claims"]["name"] == "阿依古丽·买买提"
