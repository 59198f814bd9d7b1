"""The transit wallet: top-ups through a payment provider, each landing exactly once.

A top-up claims its Idempotency-Key (a committed ``PaymentClaim``) *before* the provider is called,
and passes the same key to the provider: concurrent retries find the claim and never reach the
provider; a retry after a crash between the charge and the ledger row takes the claim over once its
lease has passed and asks the provider again with the same key, which a provider answers with the
first charge. No Flask; time is a parameter."""
import hashlib

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from ..models import PaymentClaim, Person, WalletEntry
from ..models.base import at
from ..service.errors import Conflict, ValidationFailed, YimaError
from ..service.idempotency import check_idempotency_key, check_same_request, fingerprint

MIN_TOPUP, MAX_TOPUP = 100, 100_000  # ¥1 to ¥1,000
CLAIM_LEASE_SECONDS = 60  # a claim older than this, still unpaid, is taken to have crashed


class PaymentFailed(YimaError):
    """The provider refused or could not take the payment: nothing was charged, the key is free."""

    def __init__(self, detail="The payment did not go through; nothing was charged. Try again."):
        super().__init__(detail, code="payment_failed", status=502, title="Payment failed")


class DemoPaymentProvider:
    """Accepts every payment. Clearly a demo: a deployment plugs in a real provider. Like a real
    one, it answers the same idempotency key with the same charge."""

    name = "demo"

    def charge(self, amount_fen, idempotency_key):
        return "DEMO-" + hashlib.sha256(idempotency_key.encode()).hexdigest()[:12]


def provider_key(person_id, key):
    """The idempotency key the provider sees: one per person and client key."""
    return f"yima-topup:{person_id}:{key}"


def claim_top_up(session, *, person_id, amount_fen, idempotency_key, now):
    """Claim the key for this top-up; the caller commits the claim before charging. Returns
    (claim, entry): ``entry`` is the ledger row of a top-up already paid (a retry), else None."""
    key = check_idempotency_key(idempotency_key)
    if not isinstance(amount_fen, int) or isinstance(amount_fen, bool) \
            or not MIN_TOPUP <= amount_fen <= MAX_TOPUP:
        raise ValidationFailed(f"Top up between {MIN_TOPUP // 100} and {MAX_TOPUP // 100} yuan.",
                               code="bad_amount", extra={"field": "amount_fen"})
    digest = fingerprint("topup", amount_fen=amount_fen)
    claim = _claim(session, person_id, key)
    if claim is None:
        claim = PaymentClaim(person_id=person_id, idempotency_key=key, request_hash=digest,
                             amount_fen=amount_fen, state="claimed", claimed_at=at(now))
        try:
            with session.begin_nested():
                session.add(claim)
        except IntegrityError:  # the same key raced in from another request: theirs is the claim
            claim = _claim(session, person_id, key)
        else:
            return claim, None
    check_same_request(claim.request_hash, digest)
    if claim.state == "paid":
        return claim, session.get(WalletEntry, claim.entry_id)
    lease_ends = claim.claimed_at.timestamp() + CLAIM_LEASE_SECONDS
    if now < lease_ends or not _take_over(session, claim, now):
        raise Conflict("This top-up is still being processed; try again in a moment.",
                       code="request_in_progress")
    return claim, None


def _take_over(session, claim, now):
    taken = session.execute(update(PaymentClaim).where(
        PaymentClaim.id == claim.id, PaymentClaim.state == "claimed",
        PaymentClaim.claimed_at == claim.claimed_at).values(claimed_at=at(now))).rowcount
    session.refresh(claim)
    return taken == 1


def complete_top_up(session, provider, claim):
    """Charge the provider with the claim's key, then credit the wallet and mark the claim paid
    (in the caller's transaction). Returns (entry, created)."""
    reference = provider.charge(claim.amount_fen, provider_key(claim.person_id,
                                                               claim.idempotency_key))
    claim = session.scalars(select(PaymentClaim).where(PaymentClaim.id == claim.id)
                            .with_for_update()).one()
    if claim.state == "paid":  # another retry finished it after a take-over
        return session.get(WalletEntry, claim.entry_id), False
    balance = session.execute(
        update(Person).where(Person.id == claim.person_id)
        .values(transit_wallet_fen=Person.transit_wallet_fen + claim.amount_fen)
        .returning(Person.transit_wallet_fen)).scalar_one()
    entry = WalletEntry(person_id=claim.person_id, kind="topup", amount_fen=claim.amount_fen,
                        balance_after_fen=balance, idempotency_key=claim.idempotency_key,
                        provider_ref=reference)
    session.add(entry)
    session.flush()
    claim.state, claim.entry_id = "paid", entry.id
    session.flush()
    return entry, True


def release_claim(session, claim):
    """After a refused payment: nothing was charged, so the key may be tried again."""
    session.execute(delete(PaymentClaim).where(PaymentClaim.id == claim.id,
                                               PaymentClaim.state == "claimed"))


def _claim(session, person_id, key):
    return session.scalars(select(PaymentClaim).filter_by(person_id=person_id,
                                                          idempotency_key=key)).first()
