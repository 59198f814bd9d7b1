"""The issuer's Ed25519 key ring, keyed by kid, stored in a directory:

- ``<kid>.pem``: the private key (PKCS8 PEM, mode 0600, written atomically);
- ``ring.json``: the schedule of every key, no private material:
  ``created_at``, ``signs_from`` (published before it signs), ``retired_at`` and ``drop_after``
  (its public key stays published until every credential it signed has expired).

Time is always a parameter (``now``, unix seconds)."""
import base64
import hashlib
import json
import os
from dataclasses import dataclass

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey


def b64url(raw):
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def raw_public(public_key):
    return public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def kid_for(public_key):
    return b64url(hashlib.sha256(raw_public(public_key)).digest()[:6])


@dataclass(repr=False)
class IssuerKey:
    kid: str
    public_key: Ed25519PublicKey
    private_key: Ed25519PrivateKey | None
    created_at: int
    signs_from: int
    retired_at: int | None = None
    drop_after: int | None = None

    def __repr__(self):  # never the private key
        return f"IssuerKey(kid={self.kid!r}, signs_from={self.signs_from})"

    def schedule(self):
        return {"created_at": self.created_at, "signs_from": self.signs_from,
                "retired_at": self.retired_at, "drop_after": self.drop_after}

    def jwk(self):
        return {"kty": "OKP", "crv": "Ed25519", "x": b64url(raw_public(self.public_key)),
                "kid": self.kid, "use": "sig", "alg": "EdDSA"}


def _write_atomically(path, data, mode):
    temporary = f"{path}.tmp-{os.getpid()}"
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)


FIRST_KEY_SLACK = 60  # seconds


class KeyRing:
    def __init__(self, keys, directory=None):
        self.keys = {key.kid: key for key in keys}
        self.directory = directory

    def __repr__(self):
        return f"KeyRing({sorted(self.keys)})"

    # -- storage -----------------------------------------------------------------------------

    @classmethod
    def open(cls, directory):
        os.makedirs(directory, mode=0o700, exist_ok=True)
        try:
            with open(os.path.join(directory, "ring.json")) as handle:
                schedule = json.load(handle)
        except FileNotFoundError:
            schedule = {}
        keys = []
        for kid, entry in schedule.items():
            with open(os.path.join(directory, f"{kid}.pem"), "rb") as handle:
                private = serialization.load_pem_private_key(handle.read(), password=None)
            keys.append(IssuerKey(kid, private.public_key(), private, **entry))
        return cls(keys, directory)

    @classmethod
    def from_pem_file(cls, path):
        """A single configured key (e.g. mounted from a secret store), signing from the epoch."""
        with open(path, "rb") as handle:
            private = serialization.load_pem_private_key(handle.read(), password=None)
        if not isinstance(private, Ed25519PrivateKey):
            raise ValueError(f"{path} does not hold an Ed25519 private key")
        public = private.public_key()
        return cls([IssuerKey(kid_for(public), public, private, 0, 0)])

    def _save(self):
        if self.directory is None:
            raise ValueError("this ring comes from a single key file and cannot change")
        schedule = {kid: key.schedule() for kid, key in sorted(self.keys.items())}
        _write_atomically(os.path.join(self.directory, "ring.json"),
                          json.dumps(schedule, indent=1).encode(), 0o600)

    def _add(self, now, signs_from):
        private = Ed25519PrivateKey.generate()
        key = IssuerKey(kid_for(private.public_key()), private.public_key(), private, now, signs_from)
        pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption())
        _write_atomically(os.path.join(self.directory, f"{key.kid}.pem"), pem, 0o600)
        self.keys[key.kid] = key
        return key

    # -- lifecycle ---------------------------------------------------------------------------

    def ensure(self, now):
        """Create the first key, signing at once, when the ring is empty. It signs from a minute
        before: a request that read the clock just before the ring was created on first use
        must find it (CI: a phone's first activation, "no key may sign at this time")."""
        if not self.keys:
            self._add(now, now - FIRST_KEY_SLACK)
            self._save()
        return self

    def rotate(self, now, overlap_seconds, max_credential_lifetime):
        """Publish a new key now that signs from ``now + overlap``; the key signing until then is
        retired at that moment and dropped once its last credential has expired."""
        new = self._add(now, now + overlap_seconds)
        for key in self.keys.values():
            if key is not new and key.retired_at is None:
                key.retired_at = new.signs_from
                key.drop_after = new.signs_from + max_credential_lifetime
        self._save()
        return new

    def prune(self, now):
        dropped = [kid for kid, key in self.keys.items()
                   if key.drop_after is not None and key.drop_after <= now]
        for kid in dropped:
            del self.keys[kid]
            os.remove(os.path.join(self.directory, f"{kid}.pem"))
        if dropped:
            self._save()
        return dropped

    # -- use ---------------------------------------------------------------------------------

    def signing_key(self, now):
        candidates = [key for key in self.keys.values()
                      if key.signs_from <= now and key.private_key is not None
                      and (key.drop_after is None or key.drop_after > now)]
        if not candidates:
            raise LookupError("no key may sign at this time")
        return max(candidates, key=lambda key: (key.signs_from, key.created_at))

    def public_keys(self, now):
        return {kid: key.public_key for kid, key in self.keys.items()
                if key.drop_after is None or key.drop_after > now}

    def jwks(self, now):
        return {"keys": [self.keys[kid].jwk() for kid in sorted(self.public_keys(now))]}

    def describe(self):
        return [{"kid": kid, **key.schedule()} for kid, key in sorted(self.keys.items())]
