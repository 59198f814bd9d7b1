"""Accounts and passwords (scrypt via Werkzeug; the comparison is constant-time)."""
from werkzeug.security import check_password_hash, generate_password_hash


def hash_password(password):
    return generate_password_hash(password, method="scrypt")


def password_matches(account, password):
    return account is not None and check_password_hash(account.password_hash, password)
