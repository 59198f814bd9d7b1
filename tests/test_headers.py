"""Security headers on every page and API response (backend/headers.py), cookies over TLS, and a
CSP the PWA can live with (no inline script anywhere in what we serve)."""
import os
import re

import pytest
from werkzeug.routing import IntegerConverter, PathConverter

from backend.demo.data import DEMO_PASSWORD

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SAMPLE_PATHS = {"web.pwa_file": "js/app.js", "web.static_file": "css/app.css"}
EXPECTED = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}


def read(path):
    with open(path, encoding="utf-8") as file:
        return file.read()


def get_urls(app):
    """One concrete URL per GET route, its variables filled with plausible values."""
    urls = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods:
            continue
        values = {}
        for name, converter in rule._converters.items():
            if isinstance(converter, IntegerConverter):
                values[name] = 1
            elif isinstance(converter, PathConverter):
                values[name] = SAMPLE_PATHS.get(rule.endpoint, "x")
            else:
                values[name] = "x"
        with app.test_request_context():
            from flask import url_for
            urls.append(url_for(rule.endpoint, **values))
    return sorted(set(urls))


# Where the e-voucher and the ride code work: public lists, cached for offline use (issue 15).
PUBLIC_DIRECTORY = "/api/v1/directory/"


def assert_hardened(response, url):
    for name, value in EXPECTED.items():
        assert response.headers.get(name) == value, (url, name)
    csp = dict(part.strip().split(" ", 1) for part in
               response.headers["Content-Security-Policy"].split(";"))
    assert csp["script-src"] == "'self' 'wasm-unsafe-eval'", url
    assert "unsafe-inline" not in csp["script-src"] and "unsafe-eval'" not in \
        csp["script-src"].replace("wasm-unsafe-eval", ""), url
    assert csp["frame-ancestors"] == "'none'" and csp["object-src"] == "'none'", url
    assert csp["default-src"] == "'self'", url


@pytest.mark.parametrize("who", [None, "demo-patient", "demo-admin"])
def test_every_get_route_answers_with_the_headers(seeded, who):
    client = seeded.test_client()
    if who:
        assert client.post("/api/v1/auth/login",
                           json={"login": who, "password": DEMO_PASSWORD}).status_code == 200
    urls = get_urls(seeded)
    assert "/" in urls and "/api/v1/auth/me" in urls and len(urls) > 15
    for url in urls:
        response = client.get(url)
        response.close()  # file responses hold their file open until closed
        assert response.status_code < 500, url
        assert_hardened(response, url)
        assert "Strict-Transport-Security" not in response.headers, url  # plain http
        if url.startswith(PUBLIC_DIRECTORY):  # the same for everyone: caches may keep it
            assert response.headers["Cache-Control"].startswith("public, max-age="), url
        elif url.startswith("/api/"):
            assert "no-store" in response.headers["Cache-Control"] or \
                response.headers["Cache-Control"] == "no-cache", url


def test_errors_and_writes_carry_the_headers_too(seeded, client):
    for response in (client.get("/no/such/page"), client.post("/api/v1/auth/login", json=[]),
                     client.delete("/api/v1/auth/me"),
                     client.post("/api/v1/auth/login", json={"login": "x", "password": "y"})):
        assert response.status_code in (400, 401, 404, 405, 422)
        assert_hardened(response, response.request.path)


def test_hsts_and_secure_cookie_only_over_tls(seeded):
    plain = seeded.test_client()
    answer = plain.post("/api/v1/auth/login", json={"login": "demo-patient", "password": DEMO_PASSWORD})
    cookie = answer.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    assert "Strict-Transport-Security" not in answer.headers

    tls = seeded.test_client()
    answer = tls.post("/api/v1/auth/login", json={"login": "demo-patient", "password": DEMO_PASSWORD},
                      base_url="https://yima.example")
    cookie = answer.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert answer.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    page = tls.get("/", base_url="https://yima.example")
    page.close()
    assert "Strict-Transport-Security" in page.headers


def test_behind_a_tls_proxy_the_flag_turns_them_on(seeded):
    seeded.config["SERVED_OVER_TLS"] = True
    client = seeded.test_client()
    answer = client.post("/api/v1/auth/login", json={"login": "demo-patient", "password": DEMO_PASSWORD})
    assert "Secure" in answer.headers["Set-Cookie"]
    assert "Strict-Transport-Security" in client.get("/healthz").headers


def test_nothing_we_serve_has_inline_script():
    """The CSP forbids inline script: the app shell loads modules by src only, and no page or
    module builds event-handler attributes or evaluates strings."""
    html = read(os.path.join(ROOT, "pwa", "index.html"))
    for tag in re.findall(r"<script\b[^>]*>(.*?)</script>", html, flags=re.S):
        assert tag.strip() == ""
    assert all(" src=" in tag for tag in re.findall(r"<script\b[^>]*>", html))
    assert not re.search(r"\son[a-z]+\s*=", html)
    for folder, _, files in os.walk(os.path.join(ROOT, "pwa")):
        for name in files:
            if name.endswith(".js"):
                text = read(os.path.join(folder, name))
                assert not re.search(r"\beval\(|new Function\(|setAttribute\(\s*[\"']on", text), name
