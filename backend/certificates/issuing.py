"""Issuing, listing, revoking and checking insurance certificates. Time (``now``, unix seconds)
is always a parameter; the key ring and the session are the caller's."""
from datetime import date

from sqlalchemy import func, select

from ..models import Person, Region, Revocation
from ..models.base import CHINA, at, china_iso, unix
from ..models.certificates import Certificate
from ..registry import identity
from ..service.errors import Conflict, NotFound, ValidationFailed
from ..tokens.certificate import (CertificateClaims, decode_certificate, issue_certificate,
                                  verify_certificate)
from ..tokens.credential import new_credential_id

VALIDITY_DAYS = 90
VALIDITY_SECONDS = VALIDITY_DAYS * 86_400
MAX_LIVE = 20  # unexpired, unrevoked certificates a person may hold at once
MAX_PERIOD_MONTHS = 600
SCHEMES = {"employee": "emp", "resident": "res"}


def signed_lifetime(credential_lifetime):
    """How long a retired issuer key must stay published: until the last credential *or
    certificate* it signed has expired (a certificate lives 90 days, a credential 7)."""
    return max(credential_lifetime, VALIDITY_SECONDS)


def china_day(unix_seconds):
    return at(unix_seconds).astimezone(CHINA).date()


def insured_since(person):
    """The registry's insured-since date; where it has none, the day the person entered it."""
    if person.insured_since is not None:
        return person.insured_since
    return (person.created_at if person.created_at.tzinfo else
            person.created_at.replace(tzinfo=at(0).tzinfo)).astimezone(CHINA).date()


def _months_before(day, months):
    month_index = day.year * 12 + day.month - 1 - months
    year, month = divmod(month_index, 12)
    month += 1
    for dom in (day.day, 30, 29, 28):
        try:
            return date(year, month, dom)
        except ValueError:
            continue
    raise AssertionError("unreachable")


def period_for(person, today, months):
    """The period a certificate covers: the last ``months`` months up to today, never before the
    insurance began; ``None`` months: since it began."""
    since = insured_since(person)
    if months is None:
        start = since
    else:
        if not isinstance(months, int) or isinstance(months, bool) or \
                not 1 <= months <= MAX_PERIOD_MONTHS:
            raise ValidationFailed(f"period_months is a whole number from 1 to {MAX_PERIOD_MONTHS}.",
                                   code="bad_period", extra={"fields": {"period_months": "out_of_range"}})
        start = max(since, _months_before(today, months))
    return since, min(start, today), today


def issue(session, ring, *, person, issued_by, via, now, period_months=None):
    """A new certificate for ``person``, signed now and valid for ``VALIDITY_DAYS``."""
    live = session.scalar(select(func.count()).select_from(Certificate).where(
        Certificate.person_id == person.id, Certificate.revoked_at.is_(None),
        Certificate.expires_at > at(now)))
    if live >= MAX_LIVE:
        raise Conflict(f"You already hold {MAX_LIVE} valid certificates; revoke one you no longer "
                       "need first.", code="too_many_certificates")
    today = china_day(now)
    since, start, end = period_for(person, today, period_months)
    claims = CertificateClaims(
        jti=new_credential_id(), name=person.name, idm=person.national_id_masked,
        reg=person.home_region, sch=SCHEMES[person.insurance_class], sts=person.status,
        since=since.isoformat(), pfrom=start.isoformat(), pto=end.isoformat(),
        iat=now, exp=now + VALIDITY_SECONDS)
    _, text = issue_certificate(ring, claims, now)
    certificate = Certificate(
        jti=claims.jti, person_id=person.id, issued_by_id=issued_by.id, issued_via=via,
        kid=ring.signing_key(now).kid, region_code=person.home_region, period_from=start,
        period_to=end, text=text, issued_at=at(now), expires_at=at(now + VALIDITY_SECONDS))
    session.add(certificate)
    session.flush()
    return certificate


def certificates_of(session, person_id):
    return session.scalars(select(Certificate).where(Certificate.person_id == person_id)
                           .order_by(Certificate.issued_at.desc(), Certificate.jti)).all()


def find(session, person_id, jti):
    """One of the person's certificates, or 404 (another person's is "not found" too)."""
    certificate = session.get(Certificate, jti) if isinstance(jti, str) and len(jti) == 11 else None
    if certificate is None or (person_id is not None and certificate.person_id != person_id):
        raise NotFound("No such certificate.", code="certificate_not_found")
    return certificate


def state(certificate, now):
    if certificate.revoked_at is not None:
        return "revoked"
    return "expired" if unix(certificate.expires_at) <= now else "valid"


def revoke(session, certificate, reason, now):
    """Withdraw a certificate: it goes on the signed revocation list until it would have expired.
    Revoking again changes nothing. Returns whether this call revoked it."""
    if certificate.revoked_at is not None:
        return False
    certificate.revoked_at, certificate.revoke_reason = at(now), reason[:30]
    session.add(Revocation(jti=certificate.jti, reason=reason[:30], revoked_at=at(now),
                           expires_at=certificate.expires_at))
    session.flush()
    return True


def is_revoked(session):
    return lambda jti: session.scalar(select(Revocation.version).where(Revocation.jti == jti)) \
        is not None


def check(session, ring, text, now):
    """Check a certificate as any verifier would (spec §9.4), with this server's key ring and
    revocation list. Raises the ``TokenError`` of the first failing check."""
    return verify_certificate(text, issuer_keys=ring.public_keys(now), now=now,
                              is_revoked=is_revoked(session))


def describe(session, claims):
    region = session.get(Region, claims.reg)
    return {
        "jti": claims.jti, "name": claims.name, "national_id_masked": claims.idm,
        "region": claims.reg,
        "region_name_zh": region.name_zh if region else None,
        "region_name_en": region.name_en if region else None,
        "province_zh": region.province_zh if region else None,
        "province_en": region.province_en if region else None,
        "scheme": claims.sch, "status": claims.sts, "insured_since": claims.since,
        "period_from": claims.pfrom, "period_to": claims.pto,
        "issued_at": china_iso(at(claims.iat)), "expires_at": china_iso(at(claims.exp)),
    }


def summary(session, certificate, now):
    """A row of the holder's list: what it says, its state and its QR text."""
    claims = decode_certificate(certificate.text).unverified_claims  # our own, signed by us
    return {**describe(session, claims), "state": state(certificate, now),
            "issued_via": certificate.issued_via, "text": certificate.text,
            "revoked_at": china_iso(certificate.revoked_at)}


def person_at_counter(session, *, id_hash_key, national_id, region_code):
    """The person whose ID card the counter holds, insured in the admin's region (``None``: the
    whole zone). Another region's person is "not found": a counter does not learn who is insured
    elsewhere."""
    problem = identity.national_id_problem(identity.normalise_national_id(national_id)) \
        if isinstance(national_id, str) and len(national_id) < 40 else "national_id: not an ID number"
    if problem:
        raise ValidationFailed(problem, code="bad_national_id",
                               extra={"fields": {"national_id": "invalid"}})
    person = session.scalars(select(Person).filter_by(national_id_hash=identity.hash_national_id(
        id_hash_key, identity.normalise_national_id(national_id)))).first()
    if person is None or region_code not in (None, person.home_region):
        raise NotFound("Nobody with this ID number is insured in your region.",
                       code="person_not_found")
    return person
