"""The API contract: /openapi.json is valid OpenAPI 3.1, documents every /api/v1 route, and the
app answers as it says — schemathesis over the WSGI app, anonymous and logged in as demo staff
and a demo patient, in both generation modes (data that fits the schemas, and data that does not),
and with hostile input (``hostile``): bodies nested 3,000 deep, lone surrogates in every string of a
body, and query values at the ends of the calendar and past 64 bits.
"""
import json
import re

import pytest
import schemathesis
from fuzzing import examples
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from openapi_spec_validator import OpenAPIV31SpecValidator
from schemathesis.checks import not_a_server_error
from schemathesis.core import NotSet
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

PASSWORD = "yima-demo-2026"
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]
EXAMPLES = examples(5)  # per operation, mode and login: well under a minute at scale 1
HOSTILE_EXAMPLES = examples(3)
# Called last: each ends the session the rest of the run uses.
SESSION_ENDING = {"POST /api/v1/auth/logout", "POST /api/v1/auth/logout-all",
                  "POST /api/v1/auth/password"}
DEEP = "[" * 3000 + "]" * 3000
FAR_VALUES = ["9999-12-31", "0001-01-01", "99999999999999999999", "-99999999999999999999"]


def _document(client):
    response = client.get("/openapi.json")
    assert response.status_code == 200
    return response.json


def test_the_document_is_valid_openapi_3_1(client):
    spec = _document(client)
    assert spec["openapi"].startswith("3.1.")
    OpenAPIV31SpecValidator(spec).validate()


def test_every_api_route_is_in_the_document(app, client):
    documented = {(path, method.upper()) for path, operations in _document(client)["paths"].items()
                  for method in operations}
    missing = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/"):
            continue
        path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule)
        missing += [f"{method} {path} ({rule.endpoint})"
                    for method in sorted(rule.methods - {"HEAD", "OPTIONS"})
                    if (path, method) not in documented]
    assert not missing, (
        "These /api/v1 routes are not in /openapi.json. Declare each one's request and responses "
        "with @api.validate(...) as backend/api/schemas.py explains:\n  " + "\n  ".join(missing))


def test_the_reference_page_is_served_from_this_origin(client):
    with client.get("/api/docs") as page:
        assert page.status_code == 200 and page.mimetype == "text/html"
        html = page.get_data(as_text=True)
    assert "<script>" not in html and "http" not in html  # no inline script, no CDN
    assets = re.findall(r'(?:src|href)="(/static/[^"]+)"', html)
    assert len(assets) == 4  # the viewer's script and style, its start-up script, the icon
    for asset in assets:
        with client.get(asset) as answer:
            assert answer.status_code == 200, asset


def _logged_in(app, login):
    """The session cookie and the CSRF header of a fresh login (cookie sessions are signed, so
    the same cookie stays good even after schemathesis calls logout)."""
    if login is None:
        return {}, {}
    client = app.test_client()
    answer = client.post("/api/v1/auth/login", json={"login": login, "password": PASSWORD})
    assert answer.status_code == 200, answer.json
    return {"session": client.get_cookie("session").value}, \
        {"X-CSRF-Token": answer.json["csrf_token"]}


def _surrogates(value):
    """Every string of a body with a lone surrogate appended (keys too)."""
    if isinstance(value, str):
        return value + "\ud800"
    if isinstance(value, list):
        return [_surrogates(item) for item in value]
    if isinstance(value, dict):
        return {_surrogates(key): _surrogates(item) for key, item in value.items()}
    return value


def hostile(operation, spec):
    """A strategy of valid cases made hostile in one way each, or None if the operation takes
    neither a body nor query parameters."""
    documented = spec["paths"][operation.path][operation.method.lower()]
    query = [p["name"] for p in documented.get("parameters", []) if p["in"] == "query"]
    families = (["deep", "surrogate"] if "requestBody" in documented else []) + \
        (["far"] if query else [])
    if not families:
        return None

    def spoil(drawn):
        case, family, far = drawn
        if family == "far":
            case.query = {**(case.query or {}), **{name: far for name in query}}
        elif family == "surrogate" or isinstance(case.body, NotSet):
            case.body = _surrogates({} if isinstance(case.body, NotSet) else case.body)
        else:  # a field (or the whole body) nested 3,000 deep, as raw JSON text
            body = case.body if isinstance(case.body, dict) else {}
            text = json.dumps({**body, next(iter(body), "x"): "DEEP"})
            case.body = text.replace('"DEEP"', DEEP, 1).encode()
        # Not schemathesis's to re-check: its validator cannot take a lone surrogate (it raises
        # UnicodeEncodeError), and a hostile case is meant to break the schema anyway.
        object.__setattr__(case, "_meta", None)
        return case
    return st.tuples(operation.as_strategy(generation_mode=GenerationMode.POSITIVE),
                     st.sampled_from(families), st.sampled_from(FAR_VALUES)).map(spoil)


@pytest.mark.parametrize("login", [None, "demo-patient", "demo-cashier", "demo-admin",
                                   "demo-auditor"])
def test_the_app_answers_as_documented(seeded, login):
    # Past the rate limits (429 is documented), so that every example reaches the route's code.
    seeded.config.update({name: "100000 per minute" for name in seeded.config
                          if name.endswith("_RATE_LIMIT")})
    cookies, headers = _logged_in(seeded, login)
    spec = seeded.test_client().get("/openapi.json").json
    schema = schemathesis.openapi.from_wsgi("/openapi.json", seeded)
    failures, succeeded = [], set()
    operations = sorted((result.ok() for result in schema.get_all_operations()),
                        key=lambda operation: operation.label in SESSION_ENDING)
    for operation in operations:
        strategies = [(mode.value, operation.as_strategy(generation_mode=mode), EXAMPLES)
                      for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)]
        if hostile(operation, spec) is not None:
            strategies.append(("hostile", hostile(operation, spec), HOSTILE_EXAMPLES))
        for mode, strategy, count in strategies:
            @given(case=strategy)
            @settings(max_examples=count, deadline=None, derandomize=True, database=None,
                      phases=[Phase.explicit, Phase.generate],
                      suppress_health_check=list(HealthCheck))
            def call(case):
                answer = case.call_and_validate(headers=headers, cookies=cookies, checks=CHECKS)
                if answer.status_code < 300:
                    succeeded.add(operation.label)

            try:
                call()
            except Unsatisfiable:  # nothing to make invalid: no body, query or path parameter
                continue
            except Exception as error:  # noqa: BLE001  collect every operation's failure
                failures.append(f"{operation.label} [{mode}]: {error}")
    assert not failures, f"{len(failures)} operations answer otherwise than documented:\n" + \
        "\n\n".join(failures)
    # Logged in, the run gets past the login and role checks (not only 401s and 403s).
    assert ("GET /api/v1/auth/me" in succeeded) == (login is not None), succeeded
    assert len(succeeded) >= (6 if login else 3), succeeded
