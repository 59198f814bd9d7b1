"""What `make run` does, end to end: migrate, seed, and serve with gunicorn on the embedded
default, the workers sharing one embedded Redis that stops with the master."""
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import redis

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.dirname(sys.executable)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url):
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return None


def test_make_run_steps_serve_a_ready_service(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL")}
    env.update(YIMA_INSTANCE_PATH=str(tmp_path / "instance"), PORT=str(free_port()),
               WEB_CONCURRENCY="2")
    flask = [os.path.join(BIN, "flask"), "--app", "wsgi"]
    for step in (["db", "upgrade"], ["demo", "seed"]):
        done = subprocess.run(flask + step, cwd=ROOT, env=env, capture_output=True, text=True,
                              timeout=120)
        assert done.returncode == 0, done.stderr
    log = open(tmp_path / "gunicorn.log", "wb")
    server = subprocess.Popen([os.path.join(BIN, "gunicorn"), "-c", "gunicorn.conf.py", "wsgi:app"],
                              cwd=ROOT, env=env, stdout=log, stderr=log)
    base = f"http://127.0.0.1:{env['PORT']}"
    try:
        deadline = time.monotonic() + 30
        while get(base + "/readyz") != 200 and time.monotonic() < deadline:
            time.sleep(0.2)
        statuses = {get(base + "/readyz") for _ in range(20)}  # answered by both workers
        assert statuses == {200}
        sock = tmp_path / "instance" / "redis.sock"
        with redis.Redis(unix_socket_path=str(sock)) as client:
            assert client.ping()
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
        log.close()
    # The embedded Redis ended with the master that started it.
    deadline = time.monotonic() + 10
    while sock.exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    try:
        with redis.Redis(unix_socket_path=str(sock), socket_connect_timeout=1) as client:
            alive = client.ping()
    except redis.RedisError:
        alive = False
    assert not alive
