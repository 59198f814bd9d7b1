"""Extensions, unbound here and bound to an app in ``create_app``."""
import select
import sqlite3

from flask import current_app, g, has_app_context
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, DisconnectionError
from sqlalchemy.pool import Pool

from ..models import Base
from . import limits, redis_url
from .embedded_redis import ensure_embedded_redis, socket_path

db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
# The default limit applies to every route without a limit of its own, and counts only anonymous
# writes (backend/service/limits.py).
limiter = Limiter(key_func=get_remote_address,
                  default_limits=[limits.configured("ANONYMOUS_WRITE_RATE_LIMIT")],
                  default_limits_exempt_when=limits.not_an_anonymous_write)
limiter.request_filter(limits.default_limit_would_exempt(limiter))


class RedisClient:
    """Gives each app one redis-py client, made on first use (the factory makes no connection).

    With REDIS_URL unset, the first use starts (or finds) the embedded server."""

    def init_app(self, app):
        app.extensions["yima_redis"] = {"client": None}

    def url(self, app):
        return app.config["REDIS_URL"] or ensure_embedded_redis(app.config["INSTANCE_PATH"])

    def limiter_storage_uri(self, app):
        """The same Redis for Flask-Limiter, named without starting anything."""
        url = app.config["REDIS_URL"]
        if not url:
            return "redis+unix://" + socket_path(app.config["INSTANCE_PATH"])
        return redis_url.limiter_storage_uri(url)

    def ensure_started(self):
        self.client()

    def client(self, app=None):
        app = app or current_app
        holder = app.extensions["yima_redis"]
        if holder["client"] is None:
            # redis://, unix:// or redis+sentinel:// (backend/service/redis_url.py)
            holder["client"] = redis_url.client(self.url(app))
        return holder["client"]


redis_client = RedisClient()


def release_session(_error=None):
    """End the request's session even when its connection died under it (PostgreSQL restarted
    while a transaction was open): the rollback cannot reach the server, so the connection is
    dropped instead of the error escaping the request after its answer was made."""
    try:
        db.session.remove()
    except DBAPIError:
        db.session().invalidate()
        db.session.remove()
    reports = g.pop(READ_SESSION, None) if has_app_context() else None
    if reports is not None:  # the standby's session of a report (read_replica.read_session)
        try:
            reports.close()
        except DBAPIError:
            reports.invalidate()


# The key in flask.g of a request's session on DATABASE_READ_URL (backend/service/read_replica.py).
READ_SESSION = "yima_read_session"


@event.listens_for(Engine, "connect")
def _synchronous_commit(dbapi_connection, _record):
    """PostgreSQL with a synchronous standby: with DB_SYNCHRONOUS_COMMIT set, every commit of the
    app (each money write among them) answers only once the standby has it, so a failover loses
    nothing a client was told (docs/deployment.md). Set once per connection: no round trip per
    transaction, and read-only transactions never wait."""
    if isinstance(dbapi_connection, sqlite3.Connection) or not has_app_context():
        return
    level = current_app.config.get("DB_SYNCHRONOUS_COMMIT")
    if level:
        dbapi_connection.execute("SELECT set_config('synchronous_commit', %s, false)", (level,))
        dbapi_connection.commit()  # a session-level setting, kept after this transaction


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, _record):
    """SQLite: enforce foreign keys, let readers and a writer work side by side, wait on locks."""
    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        for pragma in ("foreign_keys = ON", "journal_mode = WAL", "busy_timeout = 10000",
                       "synchronous = NORMAL"):
            cursor.execute("PRAGMA " + pragma)
        cursor.close()


@event.listens_for(Pool, "checkout")
def _drop_closed_connection(dbapi_connection, _record, _proxy):
    """PostgreSQL: an idle pooled connection has nothing to read unless the server closed it (a
    restart or failover sends its farewell, then EOF). Polling the socket finds that without the
    round trip of pool_pre_ping's SELECT 1 on every request; DisconnectionError makes the pool
    throw the connection away and open a new one."""
    if isinstance(dbapi_connection, sqlite3.Connection):
        return
    if dbapi_connection.closed:
        raise DisconnectionError("this pooled connection is closed")
    try:
        poller = select.poll()
        poller.register(dbapi_connection.fileno(), select.POLLIN | select.POLLPRI)
        closed = bool(poller.poll(0))
    except (OSError, ValueError, AttributeError):  # the socket itself is gone
        closed = True
    if closed:
        raise DisconnectionError("the server closed this pooled connection")
