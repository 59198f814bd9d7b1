"""The transit wallet: top-ups through a payment provider, each landing exactly once."""
import re
import secrets

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from ..models import Person, WalletEntry
from ..service.errors import ValidationFailed

MIN_TOPUP, MAX_TOPUP = 100, 100_000  # ¥1 to ¥1,000
_KEY = re.compile(r"^[A-Za-z0-9_.:-]{8,80}$")


class DemoPaymentProvider:
    """Accepts every payment. Clearly a demo: a deployment plugs in a real provider."""

    name = "demo"

    def charge(self, amount_fen, reference):
        return "DEMO-" + secrets.token_hex(6)


def check_idempotency_key(key):
    if not key or not _KEY.match(key):
        raise ValidationFailed("Send an Idempotency-Key header (8–80 letters, digits, . _ : -).",
                               code="idempotency_key_required")
    return key


def top_up(session, provider, *, person_id, amount_fen, idempotency_key):
    """Charge the provider and credit the wallet in one transaction; a retry with the same key
    returns the first result and charges nothing."""
    key = check_idempotency_key(idempotency_key)
    if not isinstance(amount_fen, int) or isinstance(amount_fen, bool) \
            or not MIN_TOPUP <= amount_fen <= MAX_TOPUP:
        raise ValidationFailed(f"Top up between {MIN_TOPUP // 100} and {MAX_TOPUP // 100} yuan.",
                               code="bad_amount", extra={"field": "amount_fen"})
    earlier = _find(session, person_id, key)
    if earlier is not None:
        return earlier, False
    reference = provider.charge(amount_fen, f"{person_id}:{key}")
    balance = session.execute(
        update(Person).where(Person.id == person_id)
        .values(transit_wallet_fen=Person.transit_wallet_fen + amount_fen)
        .returning(Person.transit_wallet_fen)).scalar_one()
    entry = WalletEntry(person_id=person_id, kind="topup", amount_fen=amount_fen,
                        balance_after_fen=balance, idempotency_key=key, provider_ref=reference)
    session.add(entry)
    try:
        session.flush()
    except IntegrityError:  # the same key raced in from another request: theirs won
        session.rollback()
        return _find(session, person_id, key), False
    return entry, True


def _find(session, person_id, key):
    return session.scalars(select(WalletEntry).filter_by(person_id=person_id,
                                                         idempotency_key=key)).first()
