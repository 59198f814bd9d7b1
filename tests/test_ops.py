"""Liveness, readiness and the problem documents every error becomes."""
import json

import pytest

from backend import create_app


def test_healthz_is_alive(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok"}


def test_readyz_checks_database_and_redis(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json["checks"] == {"database": True, "redis": True}


def test_readyz_names_redis_when_it_is_unreachable(storage, tmp_path):
    settings = dict(storage["settings"], REDIS_URL="redis://127.0.0.1:1/0",
                    DATABASE_URL=f"sqlite:///{tmp_path}/x.sqlite3")
    response = create_app(settings).test_client().get("/readyz")
    assert response.status_code == 503
    assert response.mimetype == "application/problem+json"
    assert response.json["code"] == "not_ready"
    assert response.json["detail"] == "unreachable: redis"


def test_readyz_names_the_database_when_it_is_unreachable(storage, tmp_path):
    settings = dict(storage["settings"],
                    DATABASE_URL=f"sqlite:///{tmp_path}/no/such/dir/yima.sqlite3")
    response = create_app(settings).test_client().get("/readyz")
    assert response.status_code == 503
    assert response.json["detail"] == "unreachable: database"
    assert response.json["checks"] == {"database": False, "redis": True}


@pytest.mark.parametrize("method, path, status, code", [
    ("GET", "/no/such/page", 404, "not_found"),
    ("GET", "/api/v1/nothing", 404, "not_found"),
    ("POST", "/healthz", 405, "method_not_allowed"),
    ("DELETE", "/readyz", 405, "method_not_allowed"),
])
def test_http_errors_are_problem_documents(client, method, path, status, code):
    response = client.open(path, method=method)
    assert response.status_code == status
    assert response.mimetype == "application/problem+json"
    body = response.json
    assert body["code"] == code
    assert body["status"] == status
    assert body["type"].endswith("/" + code)
    assert body["title"] and body["detail"]
    assert body["request_id"] == response.headers["X-Request-ID"]


def test_an_unexpected_error_is_a_500_problem_without_a_trace(storage, capfd):
    app = create_app(dict(storage["settings"]))

    @app.get("/boom")
    def boom():
        raise RuntimeError("secret internals")

    response = app.test_client().get("/boom")
    assert response.status_code == 500
    assert response.json["code"] == "internal_error"
    assert "secret internals" not in response.get_data(as_text=True)
    assert "Traceback" not in response.get_data(as_text=True)
    logged = [json.loads(line) for line in capfd.readouterr().err.splitlines() if line.startswith("{")]
    assert any(entry.get("event") == "unhandled" and "secret internals" in entry["exc"]
               for entry in logged)


def test_logs_are_json_lines_with_the_request_id(client, capfd):
    response = client.get("/healthz", headers={"X-Request-ID": "abc12345-test"})
    assert response.headers["X-Request-ID"] == "abc12345-test"
    lines = [json.loads(line) for line in capfd.readouterr().err.splitlines() if line.startswith("{")]
    access = [entry for entry in lines if entry.get("event") == "request"]
    assert access[-1]["request_id"] == "abc12345-test"
    assert access[-1]["path"] == "/healthz" and access[-1]["status"] == 200


def test_a_request_id_that_is_not_plain_is_replaced(client):
    response = client.get("/healthz", headers={"X-Request-ID": "bad id; with spaces"})
    assert response.headers["X-Request-ID"] != "bad id; with spaces"
    assert len(response.headers["X-Request-ID"]) == 16
