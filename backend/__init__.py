"""Yima: signed QR credentials for the zone's medical e-voucher and social-security code."""
import os

from flask import Flask

from .service import config as config_module
from .service import headers, limits, metrics
from .service.contract import JsonProvider
from .service.extensions import db, limiter, login_manager, migrate, redis_client, release_session
from .service.instance import ensure_instance_folder, read_or_create_secret
from .service.logs import configure_logging
from .service.problems import register_error_handlers

MIGRATIONS = os.path.join(os.path.dirname(__file__), "migrations")


def create_app(config=None):
    settings = config_module.from_environment()
    settings.update(config or {})
    instance_path = ensure_instance_folder(settings["INSTANCE_PATH"])

    app = Flask(__name__, instance_path=instance_path, static_folder=None)
    app.config.update(settings)
    app.config["SECRET_KEY"] = settings["SECRET_KEY"] or read_or_create_secret(
        instance_path, "secret_key")
    app.config["SQLALCHEMY_DATABASE_URI"] = config_module.normalise_database_url(
        settings["DATABASE_URL"] or "sqlite:///" + os.path.join(instance_path, "yima.sqlite3"))
    # hide_parameters: a failing statement's values (names, phone numbers) stay out of the logs.
    # No pool_pre_ping: its SELECT 1 was a round trip per request; a pooled connection the server
    # closed is found without one at checkout (extensions._drop_closed_connection).
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {"hide_parameters": True}
    app.config["ID_HASH_KEY"] = settings["ID_HASH_KEY"] or read_or_create_secret(
        instance_path, "id_hash_key")
    app.config["JSON_AS_ASCII"] = False
    app.json = JsonProvider(app)  # refuses too deep nesting and lone surrogates (contract.py)
    app.json.ensure_ascii = False
    # A patient's cookie lasts as long as an idle session may (renewed by every answer); a staff
    # cookie ends with the browser. The server-side session decides either way (service/security).
    app.config.update(SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax",
                      PERMANENT_SESSION_LIFETIME=settings["PATIENT_SESSION_IDLE"])

    configure_logging(app)
    metrics.init_app(app)
    db.init_app(app)
    app.teardown_appcontext(release_session)  # runs before Flask-SQLAlchemy's own
    migrate.init_app(app, db, directory=MIGRATIONS, render_as_batch=True)
    login_manager.init_app(app)
    redis_client.init_app(app)
    app.config.setdefault("RATELIMIT_STORAGE_URI", redis_client.limiter_storage_uri(app))
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", True)
    # Redis down: the limiter lets the request through instead of a 500 from its header hook;
    # every limited route needs Redis itself (lockout, OTP, nonce, replay guard), so it is a 503.
    app.config.setdefault("RATELIMIT_SWALLOW_ERRORS", True)
    limits.init_app(app)  # an oversized body is a 413 before anything reads or counts it
    # The embedded Redis must be up before the limiter's own before_request counts anything.
    app.before_request(redis_client.ensure_started)
    limiter.init_app(app)
    register_error_handlers(app)
    headers.init_app(app)

    from . import api, cli
    from .service import (  # noqa: F401  (security: loaders)
        contract,
        ops,
        security,
        web,
        wellknown,
    )
    app.url_map.converters["int"] = contract.database_int  # before any route is added
    app.register_blueprint(ops.bp)
    app.register_blueprint(web.bp)
    app.register_blueprint(wellknown.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(api.his.bp)  # /his/v1: the national interface
    app.register_blueprint(contract.bp)  # /openapi.json and /api/docs
    cli.register(app)
    return app
