"""Accounts and passwords (scrypt via Werkzeug; the comparison is constant-time)."""
import functools

from werkzeug.security import check_password_hash, generate_password_hash


def hash_password(password):
    return generate_password_hash(password, method="scrypt")


def password_matches(account, password):
    """True when ``account`` exists and ``password`` is its password. A missing account still
    costs one hash check, so the answer time does not tell whether a login exists."""
    if account is None:
        check_password_hash(_dummy_hash(), password)
        return False
    return check_password_hash(account.password_hash, password)


def new_staff_account(login, password, *, role, **fields):
    """A staff account (cashier, auditor, admin) with a password that meets the policy
    (``backend.accounts.passwords``); every code path that creates one with a typed password goes here."""
    from ..models import Account
    from . import passwords

    passwords.check(password, login=login)
    return Account(login=login, password_hash=hash_password(password), role=role, **fields)


@functools.cache
def _dummy_hash():
    return hash_password("no account has this password")
