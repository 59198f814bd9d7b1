"""The embedded default restarts cleanly (issue 14, item 10): the process that owns the instance
folder's embedded Redis holds that ownership (a lock on instance/redis.lock) for its whole life,
so `make run` stopped and started again at once gets a Redis of its own instead of borrowing the
stopping one, and a second `make run` in the same folder says so and exits 1.

Real processes throughout: gunicorn as `make run` starts it, redis-server, SIGTERM and SIGKILL."""
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import pytest
import redis
from test_serve import BIN, ROOT, free_port, get

from backend.demo.data import DEMO_PASSWORD
from backend.service import embedded_redis
from backend.service.embedded_redis import (ensure_embedded_redis, owner_of, socket_path,
                                            stop_embedded_redis)


def login_status(base):
    request = urllib.request.Request(
        base + "/api/v1/auth/login", method="POST", headers={"Content-Type": "application/json"},
        data=json.dumps({"login": "demo-patient", "password": DEMO_PASSWORD}).encode())
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return None


def wait_until(condition, seconds):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return condition()


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """An instance folder migrated and seeded as `make run` does, and how to serve it."""
    folder = tmp_path_factory.mktemp("restart")
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL")}
    env.update(YIMA_INSTANCE_PATH=str(folder / "instance"), WEB_CONCURRENCY="2",
               YIMA_LOGIN_RATE_LIMIT="1000 per minute")
    flask = [os.path.join(BIN, "flask"), "--app", "wsgi"]
    for step in (["db", "upgrade"], ["demo", "seed"]):
        done = subprocess.run(flask + step, cwd=ROOT, env=env, capture_output=True, text=True,
                              timeout=120)
        assert done.returncode == 0, done.stderr
    started = []

    def serve(port, name):
        log = open(folder / f"{name}.log", "wb")
        server = subprocess.Popen(  # its own process group, as a terminal gives `make run`
            [os.path.join(BIN, "gunicorn"), "-c", "gunicorn.conf.py", "wsgi:app"], cwd=ROOT,
            env={**env, "PORT": str(port)}, stdout=log, stderr=log, start_new_session=True)
        server.log_path = folder / f"{name}.log"
        started.append((server, log))
        return server

    yield {"serve": serve, "instance": folder / "instance"}
    for server, log in started:
        if server.poll() is None:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
        log.close()


def embedded(instance):
    return redis.Redis(unix_socket_path=str(socket_path(str(instance))), socket_timeout=5)


def sigterm(server):
    server.send_signal(signal.SIGTERM)


def ctrl_c(server):
    """What Ctrl-C in the terminal does: SIGINT to every process of the foreground group."""
    os.killpg(server.pid, signal.SIGINT)


@pytest.mark.parametrize("stop", [sigterm, ctrl_c])
def test_stopped_and_started_again_at_once_the_new_server_keeps_working(served, stop):
    """Issue 14 item 10: the second server used to find the stopping one's Redis still
    answering, use it, and lose it seconds later (/readyz 503, every login 503, for good)."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    first = served["serve"](port, f"first-{stop.__name__}")
    assert wait_until(lambda: get(base + "/readyz") == 200, 60), first.log_path.read_text()
    assert login_status(base) == 200
    with embedded(served["instance"]) as client:
        client.set("restart-test", f"kept across the restart ({stop.__name__})")
        first_redis = client.info("server")["process_id"]

    stop(first)
    second = served["serve"](port, f"second-{stop.__name__}")  # at once, as `make run` again
    assert first.wait(timeout=60) == 0
    assert wait_until(lambda: get(base + "/readyz") == 200, 60), second.log_path.read_text()
    deadline = time.monotonic() + 12  # the old one's Redis used to vanish within seconds
    while time.monotonic() < deadline:
        assert get(base + "/readyz") == 200, second.log_path.read_text()
        assert login_status(base) == 200
        time.sleep(1)
    assert second.poll() is None
    with embedded(served["instance"]) as client:
        assert client.info("server")["process_id"] != first_redis  # its own server ...
        assert client.get("restart-test").decode() == \
            f"kept across the restart ({stop.__name__})"  # ... from the file it saved
    assert owner_of(str(served["instance"])) == {"pid": second.pid, "serving": f"127.0.0.1:{port}"}
    second.send_signal(signal.SIGTERM)
    assert second.wait(timeout=60) == 0


def test_a_second_server_in_the_same_folder_says_so_and_exits(served):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    first = served["serve"](port, "serving")
    assert wait_until(lambda: get(base + "/readyz") == 200, 60), first.log_path.read_text()
    second = served["serve"](free_port(), "refused")
    try:
        returncode = second.wait(timeout=30)
    except subprocess.TimeoutExpired:
        second.kill()
        second.wait()
        pytest.fail("a second server started in a folder that is being served from")
    message = second.log_path.read_text()
    assert returncode == 1
    assert "Yima is already running from" in message and f"pid {first.pid}" in message
    assert "YIMA_INSTANCE_PATH" in message
    # The first one is untouched, and its workers leaving (a reload: HUP) leave its Redis be.
    assert get(base + "/readyz") == 200 and login_status(base) == 200
    with embedded(served["instance"]) as client:
        redis_pid = client.info("server")["process_id"]
    first.send_signal(signal.SIGHUP)
    time.sleep(1)
    assert wait_until(lambda: get(base + "/readyz") == 200, 60), first.log_path.read_text()
    for _ in range(5):
        assert get(base + "/readyz") == 200 and login_status(base) == 200
        time.sleep(0.5)
    with embedded(served["instance"]) as client:
        assert client.info("server")["process_id"] == redis_pid
    first.send_signal(signal.SIGTERM)
    assert first.wait(timeout=60) == 0
    assert not os.path.exists(socket_path(str(served["instance"])))  # stopped with its owner


def _python(code, *args, **kwargs):
    return subprocess.Popen([sys.executable, "-c", code, *args], cwd=ROOT, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kwargs)


def test_a_server_waits_for_the_owner_to_stop_then_owns_the_saved_data(tmp_path):
    instance = str(tmp_path / "inst")
    url = ensure_embedded_redis(instance)
    redis.Redis.from_url(url).set("handed", "over")
    child = _python(
        "import sys, redis; from backend.service.embedded_redis import serve_embedded_redis as s;"
        "url = s(sys.argv[1], address='127.0.0.1:' + sys.argv[2],"
        "        log=lambda m: print(m, flush=True));"
        "print(redis.Redis.from_url(url).get('handed').decode(), flush=True)",
        instance, str(free_port()))
    try:
        assert child.stdout.readline().startswith("Waiting for the process with pid")
        assert child.poll() is None  # it waits while this process owns the folder
        stop_embedded_redis(instance)
        out, err = child.communicate(timeout=60)
    finally:
        if child.poll() is None:
            child.kill()
    assert child.returncode == 0, err
    assert out.strip() == "over"


def test_a_server_told_to_stop_is_waited_for_while_its_port_still_accepts(tmp_path):
    """CI, stop 25: after Ctrl-C the stopping server's workers kept the port accepting past the
    grace on a loaded machine, and the new server took it for a second one and exited. The
    stopping owner's lock file now says so, and the new one waits however long it takes."""
    instance = str(tmp_path / "inst")
    ensure_embedded_redis(instance)
    listener = socket.create_server(("127.0.0.1", 0))  # the old workers' port, still accepting
    address = "127.0.0.1:%d" % listener.getsockname()[1]
    owned = embedded_redis._owned[socket_path(instance)]
    owned.lock.seek(0)
    owned.lock.truncate()
    owned.lock.write(json.dumps({"pid": os.getpid(), "serving": address}))
    owned.lock.flush()
    embedded_redis.mark_stopping()  # what the master's SIGINT handler does first
    assert owner_of(instance) == {"pid": os.getpid(), "serving": address, "stopping": True}
    child = _python(
        "import sys; from backend.service.embedded_redis import serve_embedded_redis as s;"
        "s(sys.argv[1], address='127.0.0.1:' + sys.argv[2], log=lambda m: print(m, flush=True));"
        "print('owner', flush=True)", instance, str(free_port()))
    try:
        assert child.stdout.readline().startswith("Waiting for the server with pid")
        time.sleep(embedded_redis.STOPPING_GRACE + 2)
        assert child.poll() is None  # still waiting: not refused as a second server
        stop_embedded_redis(instance)
        out, err = child.communicate(timeout=60)
    finally:
        listener.close()
        if child.poll() is None:
            child.kill()
    assert child.returncode == 0, err
    assert out.strip() == "owner"


def test_a_redis_left_behind_by_a_killed_owner_is_taken_over(tmp_path):
    instance = str(tmp_path / "inst")
    with _python(
            "import sys, time, redis;"
            "from backend.service.embedded_redis import ensure_embedded_redis as e;"
            "redis.Redis.from_url(e(sys.argv[1])).set('left', 'behind'); print('up', flush=True);"
            "time.sleep(600)", instance) as owner:
        try:
            assert owner.stdout.readline().strip() == "up"
        finally:
            owner.send_signal(signal.SIGKILL)  # no exit handler runs: its Redis stays up
    with embedded(instance) as orphan:
        orphan_pid = orphan.info("server")["process_id"]
    url = ensure_embedded_redis(instance)
    try:
        with redis.Redis.from_url(url) as client:
            assert client.info("server")["process_id"] != orphan_pid
            assert client.get("left") == b"behind"  # the orphan saved before it stopped
        with pytest.raises(ProcessLookupError):
            os.kill(orphan_pid, 0)
    finally:
        stop_embedded_redis(instance)
