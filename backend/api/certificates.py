"""Insurance certificates (参保凭证): a patient issues, lists, downloads and revokes their own; a
region's admin issues one at the counter for a person whose ID card is in hand; anyone checks one
(no login) — the public page checks in the browser with the JWKS and the revocation list, and this
API answers the same checks with stable problem codes. docs/certificate.md."""
import time

from flask import current_app, jsonify, request
from flask_login import current_user
from pydantic import Field

from ..certificates import issuing, pdf
from ..oversight import audit
from ..service.errors import ValidationFailed, YimaError
from ..service.extensions import db
from ..service.issuer import current_ring
from ..service.security import requires_role
from .blueprint import bp
from .schemas import LOGGED_IN, Body, Out, api, json_body, responses

PDF = {200: {"application/pdf": {"schema": {"type": "string", "format": "binary"}}}}
CHECK_ERRORS = {
    422: "`certificate_malformed`: not a certificate; `unknown_kid`: signed by a key this "
         "service never published (a forgery, or another issuer's); `bad_signature`: changed "
         "after signing; `certificate_expired`; `certificate_not_yet_valid`; "
         "`certificate_revoked`: withdrawn by the holder or the fund",
}


class CertificateIn(Body):
    period_months: int | None = Field(
        None, description="The period covered: the last N months up to today (1–600), never "
                          "before the insurance began. Left out: since the insurance began.")


class CounterCertificateIn(CertificateIn):
    national_id: str = Field(description="The ID number on the person's ID card (18 characters)")


class CertificateOut(Out):
    jti: str
    name: str
    national_id_masked: str
    region: str
    scheme: str = Field(description="`emp` employee, `res` resident")
    status: str = Field(description="registry status when issued: `active` | `suspended`")
    insured_since: str
    period_from: str
    period_to: str
    issued_at: str
    expires_at: str
    state: str = Field(description="`valid` | `expired` | `revoked`")
    text: str = Field(description="The QR's text (YC1…, docs/token-format.md §9)")


class CertificateAnswerOut(Out):
    certificate: CertificateOut


class CertificatesOut(Out):
    certificates: list[CertificateOut]
    validity_days: int


class CheckIn(Body):
    text: str = Field(description="The certificate's QR text as scanned (YC1…)")


class CheckOut(Out):
    valid: bool
    certificate: dict


class ReadOut(Out):
    text: str = Field(description="The QR text found on the PDF's first page")


def _now():
    return int(time.time())


def _check_url():
    return request.host_url.rstrip("/") + "/#/check"


def _pdf_response(certificate):
    now = _now()
    described = issuing.summary(db.session, certificate, now)
    body = pdf.render(described, certificate.text, check_url=_check_url(),
                      font_path=current_app.config.get("CERTIFICATE_FONT") or pdf.DEFAULT_FONT)
    response = current_app.response_class(body, mimetype="application/pdf")
    response.headers["Content-Disposition"] = \
        f'attachment; filename="yima-certificate-{certificate.jti}.pdf"'
    return response


# -- the holder ------------------------------------------------------------------------------

@bp.get("/me/certificates")
@requires_role("patient")
@api.validate(resp=responses(HTTP_200=CertificatesOut, errors=LOGGED_IN), tags=["certificates"])
def my_certificates():
    now = _now()
    return jsonify(certificates=[issuing.summary(db.session, c, now)
                                 for c in issuing.certificates_of(db.session, current_user.person_id)],
                   validity_days=issuing.VALIDITY_DAYS)


@bp.post("/me/certificates")
@requires_role("patient")
@api.validate(json=CertificateIn,
              resp=responses(HTTP_201=CertificateAnswerOut, errors=(*LOGGED_IN, 409, 422)),
              tags=["certificates"])
def my_certificate_issue():
    """Issue a certificate of one's own insurance, valid 90 days (at most 20 valid at once)."""
    now = _now()
    certificate = issuing.issue(db.session, current_ring(), person=current_user.person,
                                issued_by=current_user, via="self", now=now,
                                period_months=json_body().get("period_months"))
    audit.record(db.session, actor=current_user.login, action="certificate.issue",
                 target_type="certificate", target_id=certificate.jti,
                 region_code=certificate.region_code)
    db.session.commit()
    return jsonify(certificate=issuing.summary(db.session, certificate, now)), 201


@bp.get("/me/certificates/<jti>/pdf")
@requires_role("patient")
@api.validate(resp=responses(HTTP_200=None, media=PDF, errors=(*LOGGED_IN, 404)), tags=["certificates"])
def my_certificate_pdf(jti):
    return _pdf_response(issuing.find(db.session, current_user.person_id, jti))


@bp.post("/me/certificates/<jti>/revoke")
@requires_role("patient")
@api.validate(resp=responses(HTTP_200=CertificateAnswerOut, errors=(*LOGGED_IN, 404)),
              tags=["certificates"])
def my_certificate_revoke(jti):
    """Withdraw a certificate (it goes on the revocation list). Revoking again changes nothing."""
    now = _now()
    certificate = issuing.find(db.session, current_user.person_id, jti)
    if issuing.revoke(db.session, certificate, "holder", now):
        audit.record(db.session, actor=current_user.login, action="certificate.revoke",
                     target_type="certificate", target_id=certificate.jti,
                     region_code=certificate.region_code)
    db.session.commit()
    return jsonify(certificate=issuing.summary(db.session, certificate, now))


# -- the counter ------------------------------------------------------------------------------

@bp.post("/admin/certificates")
@requires_role("admin")
@api.validate(json=CounterCertificateIn,
              resp=responses(HTTP_201=CertificateAnswerOut, errors=(*LOGGED_IN, 404, 409, 422)),
              tags=["certificates"])
def counter_certificate_issue():
    """Issue a certificate at a region's counter for the person whose ID card is in hand. An admin
    bound to a region issues for persons insured there only (another region's is 404)."""
    body, now = json_body(), _now()
    person = issuing.person_at_counter(
        db.session, id_hash_key=current_app.config["ID_HASH_KEY"],
        national_id=body["national_id"], region_code=current_user.region_code)
    certificate = issuing.issue(db.session, current_ring(), person=person, issued_by=current_user,
                                via="counter", now=now, period_months=body.get("period_months"))
    audit.record(db.session, actor=current_user.login, action="certificate.issue_at_counter",
                 target_type="certificate", target_id=certificate.jti,
                 region_code=certificate.region_code)
    db.session.commit()
    return jsonify(certificate=issuing.summary(db.session, certificate, now)), 201


@bp.get("/admin/certificates/<jti>/pdf")
@requires_role("admin")
@api.validate(resp=responses(HTTP_200=None, media=PDF, errors=(*LOGGED_IN, 404)), tags=["certificates"])
def counter_certificate_pdf(jti):
    certificate = issuing.find(db.session, None, jti)
    if current_user.region_code not in (None, certificate.region_code):
        raise YimaError("No such certificate.", code="certificate_not_found", status=404,
                        title="Not found")
    return _pdf_response(certificate)


# -- anyone ------------------------------------------------------------------------------------

@bp.post("/certificates/check")
@api.validate(json=CheckIn, resp=responses(HTTP_200=CheckOut, errors=CHECK_ERRORS),
              tags=["certificates"])
def certificate_check():
    """Check a certificate's QR text against this service's keys and revocation list (no login).
    The public page does the same in the browser with the JWKS and the revocation list."""
    now = _now()
    verified = issuing.check(db.session, current_ring(), json_body()["text"], now)
    return jsonify(valid=True, certificate=issuing.describe(db.session, verified.claims))


@bp.post("/certificates/read")
@api.validate(resp=responses(HTTP_200=ReadOut, errors={
    413: "A PDF is at most the request size limit (1 MiB by default)",
    422: "`not_a_pdf`; `no_certificate_found`: no QR on the first page"}),
    tags=["certificates"])
def certificate_read():
    """Find the QR on a certificate PDF's first page (the body is the PDF, application/pdf) and
    answer its text; the caller then checks it (no login). Photos are read in the browser."""
    from ..certificates import reading  # pdfium and zxing load only when a PDF comes

    data = request.get_data(cache=False)
    if not data.startswith(b"%PDF-"):
        raise ValidationFailed("Send the certificate PDF as the request body (application/pdf).",
                               code="not_a_pdf")
    return jsonify(text=reading.certificate_text(data))
