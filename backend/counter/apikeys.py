"""Hospital-system API keys: a key stands for a service account that may do what a cashier of its
institution may do (DESIGN.md, roles). Only a digest of the secret is stored; the check is
constant-time. No Flask."""
import hashlib
import hmac
import secrets

from sqlalchemy import bindparam, select

from ..accounts.hashing import hash_password
from ..models import Account, ApiKey, Institution
from ..models.base import at
from ..models.fastsql import Hot, attached, columns_of
from ..service.errors import NotFound

KEY_PREFIX = "yk_"


def _digest(secret):
    return hashlib.sha256(secret.encode()).hexdigest()


def create_api_key(session, *, institution_code, label, created_by):
    institution = session.get(Institution, institution_code)
    if institution is None:
        raise NotFound("No such institution.", code="institution_not_found")
    prefix, secret = secrets.token_hex(6), secrets.token_urlsafe(32)
    account = Account(login=f"his:{institution_code}:{prefix}", role="cashier",
                      institution_code=institution_code,
                      password_hash=hash_password(secrets.token_urlsafe(32)))  # never used
    session.add(account)
    session.flush()
    key = ApiKey(prefix=prefix, secret_hash=_digest(secret), account_id=account.id,
                 institution_code=institution_code, label=label[:60], created_by=created_by)
    session.add(key)
    session.flush()
    return key, f"{KEY_PREFIX}{prefix}_{secret}"


def account_for_key(session, presented):
    """The service account behind a presented key, or None. Constant-time on the secret."""
    if not presented.startswith(KEY_PREFIX) or presented.count("_") < 2:
        return None
    prefix, _, secret = presented[len(KEY_PREFIX):].partition("_")
    row = _KEY_AND_ACCOUNT.first(session, {"prefix": prefix})  # every HIS request asks
    if row is None or row[0] is not None:  # (revoked_at, secret_hash, *the account)
        return None
    if not hmac.compare_digest(row[1], _digest(secret)):
        return None
    account = attached(session, Account, row[2:])
    return account if account.active else None


_KEY_AND_ACCOUNT = Hot(select(ApiKey.revoked_at, ApiKey.secret_hash, *columns_of(Account))
                       .join(Account, Account.id == ApiKey.account_id)
                       .where(ApiKey.prefix == bindparam("prefix")))


def revoke_api_key(session, key_id, now):
    key = session.get(ApiKey, key_id) if isinstance(key_id, int) else None
    if key is None:
        raise NotFound("No such API key.", code="api_key_not_found")
    key.revoked_at = at(now)
    key.account.active = False
    return key
