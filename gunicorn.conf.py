"""gunicorn settings for production and for ``make run``.

With REDIS_URL unset, the master owns the instance folder's embedded Redis for its whole life
(backend/service/embedded_redis.py): it takes the folder's lock, starts the server before forking,
so every worker shares one real Redis, and stops it (saving) when it exits. A server started while
the previous one is still stopping waits for it; one started while another serves from the same
folder says so and exits 1."""
import multiprocessing
import os
import sys

bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '5000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", min(4, multiprocessing.cpu_count() * 2)))
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
timeout = 30
graceful_timeout = 20
keepalive = 5
accesslog = None  # the app writes its own JSON access log with the request id
errorlog = "-"
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")

# Metrics add up across workers (backend/metrics.py): each worker writes its values to files in
# this folder, so it must be set before a worker imports prometheus_client and be empty at start.
os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", os.path.join(
    os.path.abspath(os.environ.get("YIMA_INSTANCE_PATH") or "instance"), "prometheus"))


def on_starting(server):
    if not os.environ.get("REDIS_URL"):
        # First: a second server in this folder must stop here, before it touches anything.
        from backend.service.embedded_redis import serve_embedded_redis

        instance = os.path.abspath(os.environ.get("YIMA_INSTANCE_PATH") or "instance")
        os.environ["REDIS_URL"] = serve_embedded_redis(instance, address=server.cfg.bind[0],
                                                       log=server.log.info)
        server.log.info("embedded Redis at %s", os.environ["REDIS_URL"])
    _empty_metrics_dir(os.environ["PROMETHEUS_MULTIPROC_DIR"])


def when_ready(server):
    """The master's stop signals first mark the embedded Redis's lock file "stopping", then go
    to gunicorn's own handler (which only queues them): a server started at once after Ctrl-C
    waits for this one however long its workers take to let go of the port."""
    embedded = sys.modules.get("backend.service.embedded_redis")
    if embedded is None:
        return
    import signal

    def stopping(sig, frame):
        embedded.mark_stopping()
        server.signal(sig, frame)

    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGQUIT):
        signal.signal(sig, stopping)


def on_exit(server):
    """After the workers have gone: the embedded Redis saves and stops, then the folder's lock is
    let go (a server waiting to take over starts its own from the saved file)."""
    embedded = sys.modules.get("backend.service.embedded_redis")  # imported by on_starting
    if embedded is not None:
        embedded.stop_embedded_servers()


def child_exit(server, worker):
    """A dead worker's counters stay in the sum; its live-only gauges must stop counting."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def _empty_metrics_dir(path):
    """Values left by a previous run would add up with this one's (and pids get reused)."""
    os.makedirs(path, mode=0o700, exist_ok=True)
    for name in os.listdir(path):
        if name.endswith(".db"):
            os.remove(os.path.join(path, name))
