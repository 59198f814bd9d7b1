"""Extensions, unbound here and bound to an app in ``create_app``."""
import select
import sqlite3

import redis
from flask import current_app
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
from .embedded_redis import ensure_embedded_redis, socket_path

db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
limiter = Limiter(key_func=get_remote_address, default_limits=[])


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
        return "redis+unix://" + url[len("unix://"):] if url.startswith("unix://") else url

    def ensure_started(self):
        self.client()

    def client(self, app=None):
        app = app or current_app
        holder = app.extensions["yima_redis"]
        if holder["client"] is None:
            holder["client"] = redis.Redis.from_url(
                self.url(app), socket_timeout=2, socket_connect_timeout=2,
                health_check_interval=30,
            )
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
