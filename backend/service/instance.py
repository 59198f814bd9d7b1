"""The instance folder: per-installation files that never go to git (SQLite file, secrets, keys,
the embedded Redis socket). Secrets are created once, atomically, readable only by the owner."""
import os
import secrets


def ensure_instance_folder(path):
    os.makedirs(path, mode=0o700, exist_ok=True)
    return path


def read_or_create_secret(folder, name, nbytes=32):
    """Return the hex secret in ``folder/name``, creating it (mode 0600) if it does not exist.

    O_EXCL makes concurrent first starts (several gunicorn workers) agree on one value."""
    path = os.path.join(folder, name)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _read_when_complete(path)
    with os.fdopen(fd, "w") as handle:
        handle.write(secrets.token_hex(nbytes))
    return _read_when_complete(path)


def _read_when_complete(path, attempts=50):
    import time

    for _ in range(attempts):
        with open(path) as handle:
            value = handle.read().strip()
        if value:
            return value
        time.sleep(0.01)  # another process created it and is still writing
    raise RuntimeError(f"secret file {path} is empty")
