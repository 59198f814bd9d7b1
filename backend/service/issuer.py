"""The issuer's key ring for this app: opened from the instance folder (or a configured PEM file),
created on first use when empty, and reopened when another process (``flask keys rotate``)
changes it; and this worker's memory of credentials whose issuer signature it has checked."""
import contextlib
import fcntl
import os
import time

from flask import current_app

from ..tokens.keys import KeyRing
from ..tokens.verify import VerifiedCredentials


def keys_directory(app):
    return app.config.get("KEYS_DIR") or os.path.join(app.config["INSTANCE_PATH"], "keys")


@contextlib.contextmanager
def locked_ring(app, now=None):
    """The ring, opened (and on first use created) under a lock shared by all processes; changes
    made inside the block (rotation) are seen by every worker on its next request."""
    directory = keys_directory(app)
    os.makedirs(directory, mode=0o700, exist_ok=True)
    with open(os.path.join(directory, ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        ring = KeyRing.open(directory)
        ring.ensure(int(now if now is not None else time.time()))
        yield ring


def open_ring(app):
    if app.config.get("SIGNING_KEY_FILE"):
        return KeyRing.from_pem_file(app.config["SIGNING_KEY_FILE"])
    with locked_ring(app) as ring:
        return ring


def current_ring(app=None):
    app = app or current_app._get_current_object()
    cache = app.extensions.setdefault("yima_issuer", {"ring": None, "stamp": None})
    stamp = _stamp(app)
    if cache["ring"] is None or stamp != cache["stamp"]:
        cache["ring"] = open_ring(app)
        cache["stamp"] = _stamp(app)
    return cache["ring"]


def verified_credentials(app=None):
    """One per worker, shared by counter verification and ride ingest (a day's riders come back)."""
    app = app or current_app._get_current_object()
    return app.extensions.setdefault("yima_verified_credentials", VerifiedCredentials())


def _stamp(app):
    path = app.config.get("SIGNING_KEY_FILE") or os.path.join(keys_directory(app), "ring.json")
    try:
        return os.stat(path).st_mtime_ns
    except FileNotFoundError:
        return None
