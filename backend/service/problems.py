"""The one place that turns errors into RFC 9457 problem documents (application/problem+json)."""
import logging

import psycopg
from flask import current_app, g, jsonify
from redis.exceptions import RedisError
from sqlalchemy.exc import DataError, IntegrityError, OperationalError
from werkzeug.exceptions import HTTPException

from ..tokens.errors import Replayed, TokenError
from .errors import YimaError

PROBLEM_BASE = "https://yima.example/problems/"

# Stable codes for the HTTP errors Werkzeug raises before a view runs.
HTTP_CODES = {
    400: "bad_request", 401: "unauthenticated", 403: "forbidden", 404: "not_found",
    405: "method_not_allowed", 406: "not_acceptable", 409: "conflict", 413: "payload_too_large",
    415: "unsupported_media_type", 422: "validation_failed", 429: "rate_limited",
    500: "internal_error", 503: "service_unavailable",
}


def problem(status, code, title, detail=None, **extra):
    body = {
        "type": PROBLEM_BASE + code,
        "title": title,
        "status": status,
        "detail": detail or title,
        "code": code,
    }
    g.problem_code = code  # for the metrics (backend/service/metrics.py)
    request_id = getattr(g, "request_id", None)
    if request_id:
        body["request_id"] = request_id
    body.update(extra)
    response = jsonify(body)
    response.status_code = status
    response.mimetype = "application/problem+json"
    return response


def register_error_handlers(app):
    app.register_error_handler(YimaError, _from_domain)
    app.register_error_handler(TokenError, _from_token)
    app.register_error_handler(HTTPException, _from_http)
    app.register_error_handler(RedisError, _backing_service("redis"))
    app.register_error_handler(OperationalError, _backing_service("database"))
    # The same from psycopg itself, where a hot path uses the driver's cursor or pipeline directly
    # (transit/ingest_pg.py, service/pipeline.py): a restart mid-statement is a 503, not a 500.
    app.register_error_handler(psycopg.OperationalError, _backing_service("database"))
    app.register_error_handler(DataError, _unstorable_value)
    app.register_error_handler(IntegrityError, _written_meanwhile)
    app.register_error_handler(Exception, _from_unexpected)


def _from_domain(error):
    response = problem(error.status, error.code, error.title, error.detail, **error.extra)
    if isinstance(error.extra.get("retry_after"), int):
        response.headers["Retry-After"] = str(error.extra["retry_after"])
    return response


def _from_token(error):
    """A refused code: 422 (409 when already used), with the token library's stable code."""
    status = 409 if isinstance(error, Replayed) else 422
    return problem(status, error.code, error.title, str(error) or error.title)


def _from_http(error):
    code = HTTP_CODES.get(error.code, "http_error")
    detail = error.description
    if error.code == 429:
        detail = f"Too many attempts (limit: {error.description}). Wait a little and try again."
    elif error.code == 413:
        detail = (f"A request body may be at most {current_app.config['MAX_CONTENT_LENGTH']:,} "
                  "bytes; send ride batches of at most 500 rides.")
    response = problem(error.code, code, error.name, detail)
    if error.code == 405 and getattr(error, "valid_methods", None):
        response.headers["Allow"] = ", ".join(error.valid_methods)
    return response


def _backing_service(name):
    def handler(error):
        logging.getLogger("yima.errors").warning("%s unavailable: %s", name, type(error).__name__,
                                                 extra={"event": "backing_service_down"})
        response = problem(503, "service_unavailable", "Service temporarily unavailable",
                           f"The {name} is not answering; try again shortly (a retried payment with "
                           "the same Idempotency-Key never pays twice).")
        response.headers["Retry-After"] = "5"
        return response
    return handler


def _unstorable_value(error):
    """A value the database cannot hold (a NUL character in text, a number out of range)."""
    from .extensions import db

    db.session.rollback()
    return problem(400, "invalid_value", "Invalid value",
                   "A value in the request cannot be stored or searched (e.g. a control character).")


def _written_meanwhile(error):
    """A unique key met at the last moment: another request stored the same record between this
    one's reads and its write (a kiosk's retry racing its own first upload of a batch). This
    request's transaction is rolled back, nothing of it stored; sent again, it is answered from
    what the other stored. Any other integrity error is a bug: a 500, logged."""
    if not _unique_violation(error):
        return _from_unexpected(error)
    from .extensions import db

    try:
        db.session.rollback()
    except Exception:  # noqa: BLE001 - the teardown drops a dead connection anyway
        pass
    logging.getLogger("yima.errors").warning("written meanwhile by another request",
                                             extra={"event": "unique_race"})
    response = problem(409, "written_meanwhile", "Written by another request at the same moment",
                       "Another request stored the same record a moment ago; nothing of this one "
                       "was stored. Send it again: what is already stored is answered as such.")
    response.headers["Retry-After"] = "1"
    return response


def _unique_violation(error):
    orig = getattr(error, "orig", None)
    if getattr(orig, "sqlstate", None) == "23505":  # PostgreSQL (psycopg)
        return True
    return "UNIQUE constraint failed" in str(orig)  # SQLite


def _from_unexpected(error):
    logging.getLogger("yima.errors").exception("unhandled error", extra={"event": "unhandled"})
    return problem(500, "internal_error", "Internal server error",
                   "Something went wrong on our side. Quote the request id when reporting it.")
