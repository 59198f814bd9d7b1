"""Prometheus metrics at ``/metrics``: requests and latency by endpoint, verify outcomes, rides
ingested, settlements and their amounts.

Under gunicorn every worker is a process of its own, so the metrics run in prometheus_client's
multiprocess mode: ``gunicorn.conf.py`` points PROMETHEUS_MULTIPROC_DIR at a folder in the instance
folder (wiped at start) before any worker imports this module, each worker writes its values there,
and ``/metrics`` adds them up across the live and dead workers. Without that variable (tests,
``flask run``) the values live in this process.

Who may read: ``/metrics`` needs ``Authorization: Bearer <METRICS_TOKEN>`` (YIMA_METRICS_TOKEN),
compared in constant time; with no token configured it is not served at all (404), so a
deployment never exposes it by accident (docs/deployment.md). Labels carry endpoint names, status
numbers and stable error codes only: never a path, an id or anything about a person.
"""
import hmac
import os
import time
from types import SimpleNamespace

from flask import Blueprint, Response, current_app, g, request
from prometheus_client import (CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, Counter, Histogram,
                               generate_latest)
from prometheus_client.multiprocess import MultiProcessCollector

from .problems import problem

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
VERIFY_ENDPOINT = "api.verify_code"

REQUESTS = Counter("yima_http_requests", "HTTP requests answered, by Flask endpoint and status.",
                   ["endpoint", "method", "status"])
LATENCY = Histogram("yima_http_request_duration_seconds",
                    "Time from the first to the last request hook, by Flask endpoint and status.",
                    ["endpoint", "status"],
                    buckets=(.005, .01, .025, .05, .075, .1, .25, .5, 1, 2.5, 5, 10))
VERIFY_OUTCOMES = Counter("yima_verify_outcomes", "POST /api/v1/verify answers: success or the "
                          "problem code of the refusal.", ["outcome"])
RIDES = Counter("yima_rides_ingested", "Rides in uploaded batches, by result status (and the "
                "reason of a rejection).", ["status", "reason"])
VISITS = Counter("yima_visits_ingested", "Venue visits in uploaded batches, by result status (and "
                 "the reason of a rejection).", ["status", "reason"])
SETTLEMENTS = Counter("yima_settlements", "Settlements and refunds written (replays not counted).",
                      ["kind"])
SETTLEMENT_FEN = Counter("yima_settlement_fen", "Amounts of settlements and refunds in fen, by "
                         "who pays (refunds counted as positive amounts under kind=refund).",
                         ["kind", "part"])
SETTLEMENT_PARTS = ("total", "fund", "personal_account", "cash")

bp = Blueprint("metrics", __name__)


def init_app(app):
    app.config.setdefault("METRICS_TOKEN", os.environ.get("YIMA_METRICS_TOKEN", ""))
    app.before_request(_start_timer)
    app.after_request(_count_request)
    app.register_blueprint(bp)


@bp.get("/metrics")
def metrics():
    token = current_app.config.get("METRICS_TOKEN") or ""
    if not token:
        return problem(404, "not_found", "Not Found", "Metrics are off: set YIMA_METRICS_TOKEN.")
    supplied = request.headers.get("Authorization", "")
    if not hmac.compare_digest(supplied.encode(), ("Bearer " + token).encode()):
        response = problem(401, "unauthenticated", "Metrics token missing or wrong",
                           "Send Authorization: Bearer <YIMA_METRICS_TOKEN>.")
        response.headers["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    return Response(generate_latest(_registry()), mimetype=CONTENT_TYPE_LATEST,
                    headers={"Cache-Control": "no-store"})


def _registry():
    if not os.environ.get(MULTIPROC_ENV):
        return REGISTRY
    registry = CollectorRegistry()
    MultiProcessCollector(registry)
    return registry


def _start_timer():
    g.metrics_started = time.perf_counter()


def _count_request(response):
    endpoint = request.endpoint or "unmatched"
    status = str(response.status_code)
    REQUESTS.labels(endpoint, request.method, status).inc()
    started = g.get("metrics_started")
    if started is not None:
        LATENCY.labels(endpoint, status).observe(time.perf_counter() - started)
    if endpoint == VERIFY_ENDPOINT:
        VERIFY_OUTCOMES.labels("success" if response.status_code < 400
                               else g.get("problem_code") or "http_" + status).inc()
    return response


def record_rides(results):
    """One batch's results from ``transit.ingest`` (after its commit); returns their tally."""
    return _record_batch(RIDES, results)


def record_visits(results):
    """One batch's results from ``venues.visits.ingest`` (after its commit); returns their tally."""
    return _record_batch(VISITS, results)


def _record_batch(counter, results):
    """Count each result; return ``{status or "rejected:<reason>": n}`` for the batch's log line."""
    outcomes = {}
    for result in results:
        reason = result.get("reason") or ""
        counter.labels(result["status"], reason).inc()
        key = result["status"] if result["status"] != "rejected" else "rejected:" + reason
        outcomes[key] = outcomes.get(key, 0) + 1
    return outcomes


def record_settlement(settlement, created=True):
    """A settlement or refund, after its commit; a replayed settle (``created`` false) is not new.
    ``settlement`` may be ``settlement_values(...)`` taken before the commit (which expires the
    object: reading it afterwards would load it again)."""
    if not created:
        return
    SETTLEMENTS.labels(settlement.kind).inc()
    for part in SETTLEMENT_PARTS:
        amount = abs(getattr(settlement, "total_fen" if part == "total" else part + "_fen"))
        SETTLEMENT_FEN.labels(settlement.kind, part).inc(amount)


def settlement_values(settlement):
    """What ``record_settlement`` reads, copied from the object (before its commit)."""
    return SimpleNamespace(kind=settlement.kind, **{
        name: getattr(settlement, name) for name in
        ("total_fen", "fund_fen", "personal_account_fen", "cash_fen")})
