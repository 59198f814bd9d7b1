"""Login for API clients: session cookie, CSRF token for writes, readable refusals."""
import pytest

from backend.demo.data import DEMO_PASSWORD


def login(client, name, password=DEMO_PASSWORD):
    return client.post("/api/v1/auth/login", json={"login": name, "password": password})


def test_login_sets_a_session_and_returns_a_csrf_token(client, seeded):
    response = login(client, "demo-cashier")
    assert response.status_code == 200
    assert response.json["account"] == {"login": "demo-cashier", "role": "cashier",
                                        "institution": "H31011800001", "region": None}
    assert len(response.json["csrf_token"]) >= 32
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    me = client.get("/api/v1/auth/me")
    assert me.status_code == 200 and me.json["account"]["login"] == "demo-cashier"


@pytest.mark.parametrize("name, password", [("demo-cashier", "wrong"), ("nobody", DEMO_PASSWORD)])
def test_a_wrong_login_or_password_gets_the_same_answer(client, seeded, name, password):
    response = login(client, name, password)
    assert response.status_code == 401
    assert response.json["code"] == "invalid_credentials"
    assert response.json["detail"] == "Login or password is wrong."


@pytest.mark.parametrize("body", [None, "text", [], {"login": "x"}, {"login": 1, "password": "x"}])
def test_bad_login_bodies_are_problems_not_crashes(client, seeded, body):
    response = client.post("/api/v1/auth/login", json=body) if body is not None else \
        client.post("/api/v1/auth/login", data="{not json", content_type="application/json")
    assert response.status_code in (400, 422)
    assert response.json["code"] in ("invalid_json", "validation_failed")


def test_writes_need_the_csrf_token(client, seeded):
    token = login(client, "demo-patient").json["csrf_token"]
    refused = client.post("/api/v1/auth/logout")
    assert refused.status_code == 403 and refused.json["code"] == "csrf_failed"
    wrong = client.post("/api/v1/auth/logout", headers={"X-CSRF-Token": token[:-1] + "x"})
    assert wrong.status_code == 403
    done = client.post("/api/v1/auth/logout", headers={"X-CSRF-Token": token})
    assert done.status_code == 200
    assert client.get("/api/v1/auth/me").status_code == 401


def test_anonymous_is_401_as_a_problem(client):
    response = client.get("/api/v1/auth/me")
    assert response.status_code == 401 and response.json["code"] == "unauthenticated"
