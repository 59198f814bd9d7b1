"""A demo phone kept by the server (DEMO ONLY): an Ed25519 device key in the instance folder that
activates like a real phone and makes codes, so `flask demo code` can print or draw a live code
without a browser. A real phone's private key never leaves the phone."""
import json
import os
import time

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ..patients import credentials
from ..tokens.code import make_code
from ..tokens.credential import DeviceKey

MARGIN = 3600  # renew a stored credential that would expire within the hour


def _write_private(path, data):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)


class PhoneInUse(Exception):
    """The person shows their codes on another phone: a demo activation would stop it."""

    def __init__(self, devices):
        super().__init__("phone in use")
        self.devices = devices


class DemoPhone:
    def __init__(self, instance_path, login):
        self.folder = os.path.join(instance_path, "demo-phones")
        os.makedirs(self.folder, mode=0o700, exist_ok=True)
        self.key_path = os.path.join(self.folder, f"{login}.pem")
        self.state_path = os.path.join(self.folder, f"{login}.json")
        self.key = self._load_or_make_key()

    def _load_or_make_key(self):
        if os.path.exists(self.key_path):
            with open(self.key_path, "rb") as handle:
                return serialization.load_pem_private_key(handle.read(), password=None)
        key = Ed25519PrivateKey.generate()
        _write_private(self.key_path, key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption()))
        return key

    def public_jwk(self):
        raw = self.key.public_key().public_bytes(serialization.Encoding.Raw,
                                                 serialization.PublicFormat.Raw)
        return DeviceKey.from_raw("Ed25519", raw).jwk()

    def credentials(self, session, store, *, account, ring, now, lifetime, replace=False):
        """The stored credentials if still good; renewed if the demo phone is still active but
        near expiry; else a fresh activation. An activation replaces the person's own phone, so
        it is refused (``PhoneInUse``) while the person uses another phone, unless ``replace``."""
        from sqlalchemy import select

        from ..models import Device

        state = self._state()
        device = session.get(Device, state["device_id"]) if state else None
        if device is not None and (device.revoked_at is not None or device.account_id != account.id
                                   or json.loads(device.public_jwk) != self.public_jwk()):
            device = None  # not (or no longer) our phone: the database was made anew since
        if device is not None and state["expires_at"] > now + MARGIN:
            return state["credentials"], []
        nonce, _ = credentials.new_challenge(store, account.id)
        proof = credentials.b64url(self.key.sign(
            credentials.ACTIVATION_LABEL + credentials.b64url_decode(nonce)))
        if device is not None:  # our own phone, still active: renew it, replace nothing
            issued = credentials.refresh_device(
                session, store, account=account, device_id=device.id, nonce=nonce, proof=proof,
                ring=ring, now=now, lifetime=lifetime)
        else:
            in_use = session.scalars(select(Device).filter_by(
                person_id=account.person_id, holder_role="self", revoked_at=None)).all()
            if in_use and not replace:
                raise PhoneInUse(in_use)
            issued = credentials.activate_device(
                session, store, account=account, person=account.person, public_jwk=self.public_jwk(),
                nonce=nonce, proof=proof, ring=ring, now=now, lifetime=lifetime, label="demo phone")
        session.commit()
        self._save({"device_id": issued.device.id, "expires_at": issued.expires_at,
                    "credentials": issued.credentials})
        return issued.credentials, issued.revoked_devices

    def code(self, credential, now=None):
        step = int((time.time() if now is None else now) // 30)
        return make_code(credential, step, self.key.sign)

    def _state(self):
        try:
            with open(self.state_path) as handle:
                return json.load(handle)
        except (FileNotFoundError, ValueError):
            return None

    def _save(self, state):
        _write_private(self.state_path, json.dumps(state).encode())
