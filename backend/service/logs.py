"""JSON log lines with a request id. Log messages name ids and codes, never personal data."""
import json
import logging
import re
import secrets
import sys
import time
import traceback

from flask import g, has_request_context, request

REQUEST_ID_HEADER = "X-Request-ID"
_ACCEPTABLE_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
_DATABASE_MODULES = {"sqlalchemy", "psycopg", "sqlite3"}


class JsonFormatter(logging.Formatter):
    def format(self, record):
        line = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        if has_request_context():
            line["request_id"] = getattr(g, "request_id", None)
        for key in ("event", "status", "path", "method", "duration_ms", "code"):
            if hasattr(record, key):
                line[key] = getattr(record, key)
        if record.exc_info:
            line["exc"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)

    def formatException(self, exc_info):
        """The whole traceback, but a database error's message only up to its first line: the
        DETAIL that PostgreSQL adds (and a failing row's values) can name a person."""
        chain, error = [], exc_info[1]
        while error is not None and all(error is not seen for seen in chain):
            chain.append(error)
            error = error.__cause__ or (None if error.__suppress_context__ else error.__context__)
        parts = []
        for error in reversed(chain):
            message = str(error)
            if type(error).__module__.split(".")[0] in _DATABASE_MODULES:
                message = message.split("\n", 1)[0]
            parts.append("Traceback (most recent call last):\n"
                         + "".join(traceback.format_tb(error.__traceback__))
                         + f"{type(error).__module__}.{type(error).__qualname__}: {message}")
        return "\n\nThe above exception led to:\n\n".join(parts)


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever sys.stderr is at the time (gunicorn and pytest swap it)."""

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, _value):
        pass


def configure_logging(app):
    handler = _StderrHandler()
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("yima")
    logger.handlers[:] = [handler]
    logger.setLevel(app.config["LOG_LEVEL"])
    logger.propagate = False
    app.before_request(_start_request)
    app.after_request(_finish_request)


def _start_request():
    supplied = request.headers.get(REQUEST_ID_HEADER, "")
    g.request_id = supplied if _ACCEPTABLE_ID.match(supplied) else secrets.token_hex(8)
    g.request_started = time.perf_counter()


def _finish_request(response):
    response.headers[REQUEST_ID_HEADER] = getattr(g, "request_id", "")
    started = getattr(g, "request_started", None)
    duration = round((time.perf_counter() - started) * 1000, 2) if started else None
    logging.getLogger("yima.access").info(
        "request",
        extra={"event": "request", "method": request.method, "path": request.path,
               "status": response.status_code, "duration_ms": duration},
    )
    return response
