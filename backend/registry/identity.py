"""Rules for national ID numbers (GB 11643), phone numbers and names, and how an ID is stored:
only as a keyed hash (to find a person again) and a masked form (to show a cashier)."""
import base64
import hashlib
import hmac
import re
import secrets
from datetime import date

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK_CHARS = "10X98765432"
_ID_SHAPE = re.compile(r"^[1-9]\d{16}[\dX]$")
_PHONE = re.compile(r"^1[3-9]\d{9}$")
_NAME_FORBIDDEN = re.compile(r"[\x00-\x1f\x7f\\]")


def check_digit(first17):
    return _CHECK_CHARS[sum(int(c) * w for c, w in zip(first17, _WEIGHTS)) % 11]


def national_id_problem(value, today=None):
    """Return why ``value`` is not a valid 18-character national ID number, or None."""
    if not _ID_SHAPE.match(value):
        return "national_id: must be 17 digits followed by a digit or X"
    try:
        born = date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        return "national_id: the birth date inside it is not a real date"
    if born > (today or date.today()) or born.year < 1900:
        return "national_id: the birth date inside it is out of range"
    expected = check_digit(value[:17])
    if value[17] != expected:
        return f"national_id: checksum character is wrong (expected {expected})"
    return None


class NationalIdChecker:
    """``national_id_problem`` for millions of rows: the region and birth-date part of an ID is
    shared by many people, so its validity and checksum contribution are cached (bounded)."""

    def __init__(self, today=None, cache_size=200_000):
        self.today = today or date.today()
        self.cache = {}
        self.cache_size = cache_size

    def problem(self, value):
        if not _ID_SHAPE.match(value):
            return "national_id: must be 17 digits followed by a digit or X"
        prefix = value[:14]
        partial = self.cache.get(prefix)
        if partial is None:
            if len(self.cache) >= self.cache_size:
                self.cache.clear()
            partial = self.cache[prefix] = self._prefix(prefix)
        if isinstance(partial, str):
            return partial
        total = partial + int(value[14]) * 8 + int(value[15]) * 4 + int(value[16]) * 2
        if value[17] != _CHECK_CHARS[total % 11]:
            return f"national_id: checksum character is wrong (expected {_CHECK_CHARS[total % 11]})"
        return None

    def _prefix(self, prefix):
        problem = national_id_problem(prefix + "0000", self.today)  # date and range rules only
        if problem and "checksum" not in problem:
            return problem
        return sum(int(c) * w for c, w in zip(prefix, _WEIGHTS))


class NationalIdHasher:
    """``hash_national_id`` with the HMAC key schedule done once."""

    def __init__(self, key):
        self._base = hmac.new(key.encode(), digestmod=hashlib.sha256)

    def __call__(self, national_id):
        digest = self._base.copy()
        digest.update(national_id.encode())
        return digest.hexdigest()[:32]


def normalise_national_id(value):
    return value.strip().upper()


def phone_problem(value):
    return None if _PHONE.match(value) else "phone: must be an 11-digit mainland mobile number"


def name_problem(value):
    if not value or len(value) > 64:
        return "name: must be 1 to 64 characters"
    if _NAME_FORBIDDEN.search(value):
        return "name: contains a control character or backslash"
    return None


def hash_national_id(key, national_id):
    """HMAC-SHA256 truncated to 128 bits (as HMAC-SHA-256-128, RFC 4868), in hex: ample against
    collisions among a few million people, and half the index of the full digest."""
    return hmac.new(key.encode(), national_id.encode(), hashlib.sha256).hexdigest()[:32]


def mask_national_id(national_id):
    """330421194805120023 -> 330421********0023: region kept, birth date and sequence hidden."""
    return national_id[:6] + "*" * 8 + national_id[14:]


def new_holder_id():
    """A random pseudonym (8 bytes, base64url) that codes carry instead of any identity."""
    return base64.urlsafe_b64encode(secrets.token_bytes(8)).rstrip(b"=").decode()
