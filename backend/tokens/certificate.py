"""Insurance certificates (参保凭证, spec §9): a statement of where, under which scheme and since when
a named person is insured, signed by the issuer's key ring. It travels in a QR as ``YC1`` + base45
of a binary form with the JWS header left implied, and expands back to a standard compact JWS
(EdDSA, header ``{"alg","kid"}``) that any JOSE library checks with the JWKS.

Unlike a code, a certificate names its holder: the holder hands it to an employer or an office that
must see whom it is about. Time (``now``, unix seconds) is always a parameter."""
import re
import struct
from dataclasses import asdict, dataclass
from datetime import date, timedelta

import jwt

from . import base45
from .credential import b64url, b64url_decode, canonical_header
from .errors import BadSignature, Malformed, TokenError, UnknownKey
from .code import SCANNER_WHITESPACE

PREFIX = "YC1"
SCHEMES = ("emp", "res")
STATUSES = ("active", "suspended")
MAX_NAME_CHARS = 64  # the registry's limit
MAX_TEXT = 600  # a certificate is at most 3 + 1.5 × (107 + 255) characters, about 546
NOT_BEFORE_SKEW = 300  # a checker's clock may be five minutes behind the issuer's
_FIXED = struct.Struct(">B6s8s3sHHHII10sB")  # flags … name length: 43 bytes
_FLAG_RES, _FLAG_SUSPENDED = 1, 2
_EPOCH = date(1970, 1, 1)
_ID_VISIBLE = re.compile(r"^\d{6}\d{3}[0-9X]$")
_NAME_FORBIDDEN = re.compile(r'[\x00-\x1f\x7f\\]')
_JWS = jwt.api_jws.PyJWS(algorithms=["EdDSA"])


class CertificateMalformed(Malformed):
    code, title = "certificate_malformed", "This is not a readable Yima insurance certificate"


class CertificateExpired(TokenError):
    code, title = "certificate_expired", "The certificate's validity has ended"


class CertificateNotYetValid(TokenError):
    code, title = "certificate_not_yet_valid", "The certificate is dated in the future"


class CertificateRevoked(TokenError):
    code, title = "certificate_revoked", "The holder or the fund withdrew this certificate"


# In the order of the checks (spec §9.4); unknown_kid and bad_signature are the codes' own.
ERRORS = (CertificateMalformed, UnknownKey, BadSignature, CertificateExpired,
          CertificateNotYetValid, CertificateRevoked)
CODES = tuple(error.code for error in ERRORS)


@dataclass(frozen=True)
class CertificateClaims:
    jti: str     # certificate id, base64url of 8 random bytes
    name: str    # the holder's name as the registry holds it
    idm: str     # the masked national ID, e.g. 330421********0025
    reg: str     # insured region, 6 digits
    sch: str     # scheme: emp (employee) | res (resident)
    sts: str     # registry status when issued: active | suspended
    since: str   # insured since, YYYY-MM-DD
    pfrom: str   # period covered from, YYYY-MM-DD
    pto: str     # period covered to, YYYY-MM-DD
    iat: int
    exp: int

    def check(self):
        """ValueError unless every field is in range (spec §9.4 check 1)."""
        if len(b64url_decode(self.jti)) != 8 or b64url(b64url_decode(self.jti)) != self.jti:
            raise ValueError("jti must be 8 bytes, base64url")
        check_name(self.name)
        if not (len(self.idm) == 18 and self.idm[6:14] == "*" * 8
                and _ID_VISIBLE.match(self.idm[:6] + self.idm[14:])):
            raise ValueError("idm must be a masked national ID: 6 digits, 8 '*', 3 digits, a digit or X")
        if not re.fullmatch(r"\d{6}", self.reg or ""):
            raise ValueError("reg must be 6 digits")
        if self.sch not in SCHEMES or self.sts not in STATUSES:
            raise ValueError("scheme or status unknown")
        since, pfrom, pto = (_day_number(d) for d in (self.since, self.pfrom, self.pto))
        if not since <= pfrom <= pto:
            raise ValueError("need since <= from <= to")
        if not 0 < self.iat < self.exp < 2 ** 32:
            raise ValueError("need 0 < iat < exp < 2^32")
        return self

    def payload(self):
        return canonical_payload(self)


def check_name(name):
    if not isinstance(name, str) or not 1 <= len(name) <= MAX_NAME_CHARS:
        raise ValueError(f"a name is 1 to {MAX_NAME_CHARS} characters")
    if _NAME_FORBIDDEN.search(name):
        raise ValueError("a name has no control characters (U+0000–U+001F, U+007F) or backslash")
    try:
        encoded = name.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("a name is Unicode text") from None
    if len(encoded) > 255:
        raise ValueError("a name is at most 255 bytes of UTF-8")
    return encoded


def _day_number(text):
    if not isinstance(text, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        raise ValueError("a date is YYYY-MM-DD")
    days = (date.fromisoformat(text) - _EPOCH).days
    if not 0 <= days <= 0xFFFF:
        raise ValueError("a date is between 1970-01-01 and 2149-06-06")
    return days


def _day_text(days):
    return (_EPOCH + timedelta(days=days)).isoformat()


def canonical_payload(c):
    """The exact payload bytes of spec §9.2: members in this order, no whitespace, UTF-8; in the
    name only '"' is escaped (control characters and backslash are not allowed in a name)."""
    name = '"' + c.name.replace('"', '\\"') + '"'
    return ('{"iss":"yima","typ":"cert","jti":"' + c.jti + '","name":' + name +
            ',"idm":"' + c.idm + '","reg":"' + c.reg + '","sch":"' + c.sch + '","sts":"' + c.sts +
            '","since":"' + c.since + '","from":"' + c.pfrom + '","to":"' + c.pto +
            '","iat":' + str(c.iat) + ',"exp":' + str(c.exp) + "}").encode("utf-8")


def issue_certificate(ring, claims, now):
    """Sign ``claims`` with the ring's current key: (compact JWS, QR text)."""
    key = ring.signing_key(now)
    payload = canonical_payload(claims.check())
    token = _JWS.encode(payload, key.private_key, algorithm="EdDSA",
                        headers={"kid": key.kid, "typ": None})
    header_b64, payload_b64, signature_b64 = token.split(".")
    if b64url_decode(header_b64) != canonical_header(key.kid) or \
            b64url_decode(payload_b64) != payload:
        raise RuntimeError("PyJWT changed the canonical header or payload")
    return token, pack(key.kid, claims, b64url_decode(signature_b64))


def pack(kid, c, signature):
    """The text form (spec §9.3) of signed claims."""
    name = check_name(c.name)
    flags = _FLAG_RES * (c.sch == "res") | _FLAG_SUSPENDED * (c.sts == "suspended")
    fixed = _FIXED.pack(flags, b64url_decode(kid), b64url_decode(c.jti), int(c.reg).to_bytes(3, "big"),
                        _day_number(c.since), _day_number(c.pfrom), _day_number(c.pto), c.iat, c.exp,
                        (c.idm[:6] + c.idm[14:]).encode("ascii"), len(name))
    return PREFIX + base45.encode(fixed + name + signature)


@dataclass(frozen=True)
class DecodedCertificate:
    kid: str
    unverified_claims: CertificateClaims
    signing_input: bytes
    signature: bytes

    def jws(self):
        """The standard compact JWS the certificate carries (spec §9.3)."""
        return self.signing_input.decode() + "." + b64url(self.signature)


def decode_certificate(text):
    """Spec §9.4 check 1: the text, stripped of a scanner's whitespace, is a well-formed
    certificate. Raises ``CertificateMalformed``."""
    if not isinstance(text, str) or len(text) > MAX_TEXT:
        raise CertificateMalformed("not a certificate")
    text = text.strip(SCANNER_WHITESPACE)
    if not text.startswith(PREFIX):
        raise CertificateMalformed("a Yima certificate starts with YC1")
    try:
        data = base45.decode(text[len(PREFIX):])
    except Malformed as error:
        raise CertificateMalformed(str(error)) from None
    if len(data) < _FIXED.size + 1 + 64:
        raise CertificateMalformed("too short")
    (flags, kid_raw, jti_raw, reg, since, pfrom, pto, iat, exp, id_visible,
     name_length) = _FIXED.unpack_from(data)
    if flags & 0xFC or len(data) != _FIXED.size + name_length + 64:
        raise CertificateMalformed("unknown flags, or the length does not match the name's")
    try:
        name = data[_FIXED.size:_FIXED.size + name_length].decode("utf-8")
        visible = id_visible.decode("ascii")
        claims = CertificateClaims(
            jti=b64url(jti_raw), name=name, idm=visible[:6] + "*" * 8 + visible[6:],
            reg=f"{int.from_bytes(reg, 'big'):06d}", sch=SCHEMES[flags & _FLAG_RES],
            sts=STATUSES[bool(flags & _FLAG_SUSPENDED)], since=_day_text(since),
            pfrom=_day_text(pfrom), pto=_day_text(pto), iat=iat, exp=exp).check()
    except (ValueError, UnicodeDecodeError) as error:
        raise CertificateMalformed(f"invalid field: {error}") from None
    kid = b64url(kid_raw)
    signing_input = (b64url(canonical_header(kid)) + "." + b64url(canonical_payload(claims))).encode()
    return DecodedCertificate(kid, claims, signing_input, data[-64:])


@dataclass(frozen=True)
class VerifiedCertificate:
    claims: CertificateClaims
    kid: str
    jws: str

    def as_dict(self):
        return {**asdict(self.claims), "kid": self.kid}


def verify_certificate(text, *, issuer_keys, now, is_revoked=lambda jti: False):
    """The checks of spec §9.4 in order; the first that fails raises its ``TokenError``."""
    decoded = decode_certificate(text)  # 1
    key = issuer_keys.get(decoded.kid)
    if key is None:  # 2
        raise UnknownKey(f"kid {decoded.kid} is not in the key set")
    try:  # 3: the expanded standard JWS, through PyJWT
        _JWS.decode(decoded.jws(), key, algorithms=["EdDSA"])
    except jwt.InvalidSignatureError:
        raise BadSignature() from None
    except jwt.PyJWTError as error:
        raise CertificateMalformed(str(error)) from None
    claims = decoded.unverified_claims  # verified from here on
    if now >= claims.exp:  # 4
        raise CertificateExpired()
    if now < claims.iat - NOT_BEFORE_SKEW:
        raise CertificateNotYetValid()
    if is_revoked(claims.jti):  # 5
        raise CertificateRevoked()
    return VerifiedCertificate(claims, decoded.kid, decoded.jws())
