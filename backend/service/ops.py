"""Liveness and readiness for load balancers and orchestrators."""
import logging

from flask import Blueprint, jsonify
from sqlalchemy import text

from .contract import Out, api, responses
from .extensions import db, redis_client
from .problems import problem

bp = Blueprint("ops", __name__)
log = logging.getLogger("yima.ops")


class ReadyOut(Out):
    status: str
    checks: dict[str, bool] | None = None


@bp.get("/healthz")
@api.validate(resp=responses(HTTP_200=ReadyOut), tags=["operations"])
def healthz():
    return jsonify(status="ok")


@bp.get("/readyz")
@api.validate(resp=responses(HTTP_200=ReadyOut, errors={503: "`not_ready`, with `checks`"}),
              tags=["operations"])
def readyz():
    checks = {"database": _database_ok(), "redis": _redis_ok()}
    failing = [name for name, ok in checks.items() if not ok]
    if failing:
        return problem(503, "not_ready", "Not ready",
                       "unreachable: " + ", ".join(failing), checks=checks)
    return jsonify(status="ready", checks=checks)


def _database_ok():
    try:
        db.session.execute(text("SELECT 1"))
        return True
    except Exception:  # any driver error means "not ready"; the reason goes to the log
        log.warning("readiness: database unreachable", exc_info=True)
        db.session.rollback()
        return False


def _redis_ok():
    try:
        return bool(redis_client.client().ping())
    except Exception:  # connection refused, timeout, embedded server failing to start
        log.warning("readiness: redis unreachable", exc_info=True)
        return False
