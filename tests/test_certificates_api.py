"""Insurance certificates through the API (issue 19): issue, PDF, QR read back from the page image
(pypdfium2 + zxing-cpp), checked by jwcrypto against /.well-known/jwks.json; revoke; the refusals
with their stable codes; roles and regions."""
import json
import tempfile
import time

import pypdfium2
import pytest
import zxingcpp
from jwcrypto import jwk, jws

from backend.certificates import issuing
from backend.demo.seed import demo_national_id
from backend.models import Account, Certificate, Person
from backend.service.extensions import db
from backend.service.qr import qr_version
from backend.tokens import base45
from backend.tokens.certificate import CertificateClaims, decode_certificate, issue_certificate
from backend.tokens.keys import KeyRing
from tests.phones import login

SHEN_ID = demo_national_id("330421", "19480512", "002")


def issue(client, csrf, **body):
    return client.post("/api/v1/me/certificates", json=body, headers={"X-CSRF-Token": csrf})


def qr_text_of(pdf_bytes):
    page = pypdfium2.PdfDocument(pdf_bytes)[0]
    found = zxingcpp.read_barcodes(page.render(scale=2).to_pil())
    assert len(found) == 1
    return found[0].text, found[0]


def test_issue_render_read_back_verify_with_jwcrypto_then_revoke(seeded, caplog):
    caplog.set_level("DEBUG")
    client = seeded.test_client()
    csrf = login(client, "demo-patient")
    answer = issue(client, csrf, period_months=12)
    assert answer.status_code == 201, answer.json
    certificate = answer.json["certificate"]
    assert (certificate["name"], certificate["region"], certificate["scheme"], certificate["state"]) \
        == ("沈桂芳", "330421", "emp", "valid")
    assert certificate["national_id_masked"] == "330421********0025"
    assert certificate["issued_at"].endswith("+08:00")

    pdf = client.get(f"/api/v1/me/certificates/{certificate['jti']}/pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert b"/FontFile2" in pdf.data  # the Chinese font travels inside the PDF (a subset)
    text, barcode = qr_text_of(pdf.data)
    assert text == certificate["text"]
    assert barcode.format == zxingcpp.BarcodeFormat.QRCode and barcode.ec_level == "M"
    assert qr_version(text) <= 15

    # Any JOSE library: the expanded document, the published JWKS.
    expanded = decode_certificate(text).jws()
    key_set = jwk.JWKSet.from_json(client.get("/.well-known/jwks.json").data)
    token = jws.JWS()
    token.deserialize(expanded)
    token.verify(key_set.get_key(token.jose_header["kid"]), alg="EdDSA")
    payload = json.loads(token.payload)
    assert (payload["typ"], payload["jti"], payload["name"], payload["sch"], payload["sts"]) == \
        ("cert", certificate["jti"], "沈桂芳", "emp", "active")
    assert payload["exp"] - payload["iat"] == 90 * 86_400

    public = seeded.test_client()  # anyone: no login
    checked = public.post("/api/v1/certificates/check", json={"text": text})
    assert checked.status_code == 200 and checked.json["certificate"]["region_name_zh"] == "嘉善县"

    read = public.post("/api/v1/certificates/read", data=pdf.data,
                       headers={"Content-Type": "application/pdf"})
    assert read.status_code == 200 and read.json["text"] == text

    revoked = client.post(f"/api/v1/me/certificates/{certificate['jti']}/revoke",
                          headers={"X-CSRF-Token": csrf})
    assert revoked.status_code == 200 and revoked.json["certificate"]["state"] == "revoked"
    again = client.post(f"/api/v1/me/certificates/{certificate['jti']}/revoke",
                        headers={"X-CSRF-Token": csrf})
    assert again.status_code == 200 and again.json["certificate"]["state"] == "revoked"
    refused = public.post("/api/v1/certificates/check", json={"text": text})
    assert refused.status_code == 422 and refused.json["code"] == "certificate_revoked"
    listing = client.get("/api/v1/revocations").json
    assert certificate["jti"] in listing["jti"]
    mine = client.get("/api/v1/me/certificates").json["certificates"]
    assert [(c["jti"], c["state"]) for c in mine] == [(certificate["jti"], "revoked")]
    assert "沈桂芳" not in caplog.text and "********0025" not in caplog.text  # logs name certificates by number


def test_each_bad_certificate_gets_its_own_code(seeded):
    client = seeded.test_client()
    csrf = login(client, "demo-patient")
    text = issue(client, csrf).json["certificate"]["text"]
    claims = decode_certificate(text).unverified_claims
    data = bytearray(base45.decode(text[3:]))
    data[45] ^= 1  # a byte of the name: the document changed after signing
    tampered = "YC1" + base45.encode(bytes(data))
    foreign_ring = KeyRing.open(tempfile.mkdtemp()).ensure(int(time.time()))
    _, foreign = issue_certificate(foreign_ring, claims, int(time.time()))
    with seeded.app_context():
        from backend.service.issuer import current_ring
        old = int(time.time()) - 100 * 86_400
        _, expired = issue_certificate(current_ring(seeded), CertificateClaims(
            **{**claims.__dict__, "iat": old, "exp": old + 90 * 86_400}), int(time.time()))
    client = seeded.test_client()  # anyone: no login
    cases = {tampered: "bad_signature", foreign: "unknown_kid", expired: "certificate_expired",
             "YM1" + text[3:]: "certificate_malformed", "hello": "certificate_malformed"}
    for bad, code in cases.items():
        answer = client.post("/api/v1/certificates/check", json={"text": bad})
        assert (answer.status_code, answer.json["code"]) == (422, code), bad
        assert answer.mimetype == "application/problem+json"
    for junk, code in ((b"GIF89a", "not_a_pdf"), (b"%PDF-1.4\n%broken", "not_a_pdf"),
                       (_pdf_without_a_qr(), "no_certificate_found")):
        answer = client.post("/api/v1/certificates/read", data=junk,
                             headers={"Content-Type": "application/pdf"})
        assert (answer.status_code, answer.json["code"]) == (422, code)


def _pdf_without_a_qr():
    import io

    from reportlab.pdfgen import canvas

    out = io.BytesIO()
    page = canvas.Canvas(out)
    page.drawString(100, 700, "no certificate here")
    page.save()
    return out.getvalue()


def test_period_and_limits(seeded):
    client = seeded.test_client()
    csrf = login(client, "demo-patient")
    for months in (0, 601, "12", True):
        answer = issue(client, csrf, period_months=months)
        assert answer.status_code == 422, months
    with seeded.app_context():
        person = db.session.scalars(db.select(Person).filter_by(name="沈桂芳")).one()
        person.insured_since = issuing.china_day(time.time()).replace(year=2001, month=7, day=1)
        db.session.commit()
    whole = issue(client, csrf).json["certificate"]
    assert (whole["insured_since"], whole["period_from"]) == ("2001-07-01", "2001-07-01")
    six = issue(client, csrf, period_months=6).json["certificate"]
    assert six["period_from"] > "2001-07-01" and six["period_to"] == whole["period_to"]
    for _ in range(issuing.MAX_LIVE - 2):
        assert issue(client, csrf).status_code == 201
    assert issue(client, csrf).json["code"] == "too_many_certificates"


def test_roles_and_regions(seeded):
    client = seeded.test_client()
    assert client.get("/api/v1/me/certificates").status_code == 401
    csrf = login(client, "demo-patient")
    jti = issue(client, csrf).json["certificate"]["jti"]
    other = seeded.test_client()
    other_csrf = login(other, "demo-family")  # another person: not theirs to see or revoke
    assert other.get(f"/api/v1/me/certificates/{jti}/pdf").json["code"] == "certificate_not_found"
    assert other.post(f"/api/v1/me/certificates/{jti}/revoke",
                      headers={"X-CSRF-Token": other_csrf}).status_code == 404
    assert other.post("/api/v1/admin/certificates", json={"national_id": SHEN_ID},
                      headers={"X-CSRF-Token": other_csrf}).status_code == 403

    with seeded.app_context():  # an admin of Qingpu, and Shen is insured in Jiashan
        zone_admin = db.session.scalars(db.select(Account).filter_by(login="demo-admin")).one()
        db.session.add(Account(login="admin-qp-test", password_hash=zone_admin.password_hash,
                               role="admin", region_code="310118"))
        db.session.commit()
    qingpu = seeded.test_client()
    qingpu_csrf = login(qingpu, "admin-qp-test")
    answer = qingpu.post("/api/v1/admin/certificates", json={"national_id": SHEN_ID},
                         headers={"X-CSRF-Token": qingpu_csrf})
    assert (answer.status_code, answer.json["code"]) == (404, "person_not_found")
    assert qingpu.get(f"/api/v1/admin/certificates/{jti}/pdf").status_code == 404
    bad_id = qingpu.post("/api/v1/admin/certificates", json={"national_id": "12345"},
                         headers={"X-CSRF-Token": qingpu_csrf})
    assert bad_id.json["code"] == "bad_national_id"

    zone = seeded.test_client()
    zone_csrf = login(zone, "demo-admin")
    counter = zone.post("/api/v1/admin/certificates",
                        json={"national_id": SHEN_ID.lower(), "period_months": 3},
                        headers={"X-CSRF-Token": zone_csrf})
    assert counter.status_code == 201, counter.json
    assert counter.json["certificate"]["issued_via"] == "counter"
    assert zone.get(f"/api/v1/admin/certificates/{counter.json['certificate']['jti']}/pdf").status_code == 200
    with seeded.app_context():
        assert db.session.get(Certificate, counter.json["certificate"]["jti"]).person.name == "沈桂芳"
    mine = client.get("/api/v1/me/certificates").json["certificates"]
    assert {c["issued_via"] for c in mine} == {"self", "counter"}


@pytest.mark.parametrize("name", ["沈桂芳", "欧阳" + "娜" * 62, "A" * 64, '王"小二'])
def test_qr_version_at_ecc_m_is_at_most_15_even_for_the_longest_name(name):
    ring = KeyRing.open(tempfile.mkdtemp()).ensure(1_795_000_000)
    claims = CertificateClaims(jti="AQEBAQEBAQE", name=name, idm="330421********002X",
                               reg="330421", sch="res", sts="suspended", since="1970-01-01",
                               pfrom="2000-01-01", pto="2149-06-06", iat=1_795_000_000,
                               exp=4_000_000_000)
    _, text = issue_certificate(ring, claims, 1_795_000_000)
    assert qr_version(text) <= 15
    assert decode_certificate(text).unverified_claims == claims
