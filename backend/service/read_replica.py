"""Reports read from a standby when DATABASE_READ_URL names one (docs/deployment.md, PostgreSQL).

``read_session()`` is the session a report view reads with: with DATABASE_READ_URL set, a session
of the request on that engine (a hot standby; transactions ``READ ONLY`` in any case), closed with
the request by ``extensions.release_session``; without it, the app's own ``db.session``. It only
reads: what a report writes (the audit entry of an export) goes through ``db.session``.

A standby is behind the primary by the replication delay. With ``YIMA_DB_SYNCHRONOUS_COMMIT=
remote_apply`` a commit answers only once the synchronous standby has applied it, so a report there
shows every write already answered; with ``on`` it may be a few milliseconds behind.
"""
import threading

from flask import current_app, g
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from .config import normalise_database_url
from .extensions import READ_SESSION, db

_engines_lock = threading.Lock()


def read_engine(app):
    """The app's engine on DATABASE_READ_URL (made once per app), or None without one."""
    url = app.config.get("DATABASE_READ_URL")
    if not url:
        return None
    holder = app.extensions.setdefault("yima_read_engine", {})
    with _engines_lock:
        if "engine" not in holder:
            url = normalise_database_url(url)
            options = {"postgresql_readonly": True} if url.startswith("postgresql") else {}
            # hide_parameters: as on the primary's engine, values stay out of the logs.
            holder["engine"] = create_engine(url, hide_parameters=True,
                                             execution_options=options)
    return holder["engine"]


def read_session():
    """The request's session for reading a report: on the standby if configured, else db.session."""
    engine = read_engine(current_app)
    if engine is None:
        return db.session
    session = g.get(READ_SESSION)
    if session is None:
        session = Session(engine, autoflush=False, expire_on_commit=False)
        setattr(g, READ_SESSION, session)
    return session
