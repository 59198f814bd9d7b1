"""Idempotency-Keys of money-moving requests: the key's form, and the fingerprint of the request it
came with. A retry with the same key and the same request gets the first answer; the same key with
another request (another bill, another scan, another amount) is refused, never answered with the
first result. No Flask."""
import hashlib
import json
import re

from .errors import ValidationFailed

_KEY = re.compile(r"^[A-Za-z0-9_.:-]{8,80}$")


def check_idempotency_key(key):
    if not key or not _KEY.match(key):
        raise ValidationFailed("Send an Idempotency-Key header (8–80 letters, digits, . _ : -).",
                               code="idempotency_key_required")
    return key


def fingerprint(operation, **request):
    """sha256 (hex) of the canonical JSON of what was asked: sorted keys, no spaces, UTF-8."""
    canonical = json.dumps({"op": operation, **request}, sort_keys=True, separators=(",", ":"),
                           ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()


def check_same_request(stored_hash, request_hash):
    """A row written before fingerprints were kept (None) is taken as the same request."""
    if stored_hash is not None and stored_hash != request_hash:
        raise ValidationFailed("This Idempotency-Key was already used for another request; "
                               "send a new key for a new request.", code="idempotency_key_reused")
