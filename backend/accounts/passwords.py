"""The password policy for every account a person types a password for (sign-up, staff accounts).

At least ``MIN_LENGTH`` characters, at most ``MAX_LENGTH``, not the login or phone number (nor
containing it), and not one of the passwords every guessing list starts with. ``problem()`` returns a
stable reason (the PWA words it in both languages) or None; ``check()`` raises the problem."""
from ..service.errors import ValidationFailed

MIN_LENGTH = 10
MAX_LENGTH = 128

# The heads of the public leaked-password lists, and the obvious local ones, lower-cased. A small
# list on purpose: it stops the guesses an attacker tries first, the length rule does the rest.
COMMON = frozenset("""
1234567890 0123456789 12345678910 1234567890a a1234567890 0987654321 1122334455 1111111111
0000000000 9876543210 123123123123 1234512345 1q2w3e4r5t 1qaz2wsx3edc qwertyuiop asdfghjkl;
qwerty1234 qwerty12345 qwertyuiop1 password12 password123 password1234 passw0rd123 p@ssw0rd123
iloveyou12 iloveyou123 abcdefghij abc1234567 abcd123456 abcde12345 aa12345678 a123456789
woaini1314 woaini520520 5201314520 1314520520 13145201314 zxcvbnm123 zxcvbnmasd asdfghjkl1
asdf123456 admin12345 admin123456 administrator welcome123 letmein123 changeme123 trustno1234
football12 baseball12 dragon1234 monkey1234 sunshine12 princess12 shanghai123 shanghai2026
yima123456 yima2026yima qingpu2026 wujiang2026 jiashan2026 password2026
""".split())


def problem(password, *, login=None, phone=None):
    """The reason ``password`` is refused (``too_short``, ``too_long``, ``like_login``, ``common``),
    or None when it is acceptable."""
    if len(password) < MIN_LENGTH:
        return "too_short"
    if len(password) > MAX_LENGTH:
        return "too_long"
    lowered = password.lower()
    for name in (login, phone):
        if name and len(name.strip()) >= 4 and name.strip().lower() in lowered:
            return "like_login"
    if lowered in COMMON or len(set(lowered)) <= 2:
        return "common"
    return None


DETAILS = {
    "too_short": f"at least {MIN_LENGTH} characters",
    "too_long": f"at most {MAX_LENGTH} characters",
    "like_login": "it must not be or contain the login or phone number",
    "common": "it is one of the first passwords anyone would guess; choose a less common one",
}


def check(password, *, login=None, phone=None):
    reason = problem(password, login=login, phone=phone)
    if reason:
        raise ValidationFailed(f"Password: {DETAILS[reason]}.", code="weak_password",
                               title="Password too weak",
                               extra={"field": "password", "reason": reason,
                                      "min_length": MIN_LENGTH})
