"""No input yields a 500: every route, called by anonymous, a patient, a cashier, an auditor, an
admin and a bus validator, with garbage bodies, hostile bodies (nested 3,000 deep; a lone surrogate
in every string the route's schema names, and in a key), odd path values and odd query values (the
ends of the calendar, numbers past 64 bits), answers with a problem document below 500 (the
national interface: its envelope with ``infcode -1``)."""
import json
import re

import pytest
from phones import login
from test_transit_api import enrol_validator

SURROGATE = "\ud800"
GARBAGE = [None, "not json", [], {}, {"code": None}, {"lines": "x", "scan_id": 5},
           {"amount_fen": -1}, {"public_jwk": {"kty": "OKP", "crv": "Ed25519", "x": "!!"},
                                "nonce": "x" * 500, "signature": 12},
           {"rides": [{"code": 1, "ridden_at": "now"}, "x", None]},
           {"login": "x" * 10_000, "password": ["p"]}, {"reason": "", "decision": "maybe", "note": 3}]
# Raw bodies, sent as they are: broken JSON and JSON nested past what Python's parser recurses to.
RAW = ["{oops", "[" * 3000 + "]" * 3000, '{"login": ' + "[" * 3000 + "]" * 3000 + "}",
       '{"rides": ' + "[" * 40 + "]" * 40 + "}"]
QUERIES = ["since=-1&from=x&date=y&format=csv",
           "from=9999-12-31&to=9999-12-31&date=9999-12-31&format=csv",
           "from=0001-01-01&to=0001-01-02&date=0001-01-01",
           "since=99999999999999999999&limit=99999999999999999999&before=99999999999999999999"
           "&page=99999999999999999999&per_page=-99999999999999999999",
           "status=%ED%A0%80&rule=%ED%A0%80&from=%ED%A0%80&date=%ED%A0%80&format=%ED%A0%80"]
PATH_VALUES = {"int": ["999999999999", "1"], "default": ["x", "AAAAAAAAAAA", "%00", "H31011800001"]}
SURROGATE_IN_PATH = "%ED%A0%80"  # the UTF-8 bytes of U+D800, which no decoder should pass on
WRITES = {"POST", "PUT", "PATCH", "DELETE"}
ROLES = [None, "demo-patient", "demo-cashier", "demo-auditor", "demo-admin", "validator"]


def routes(app):
    for rule in app.url_map.iter_rules():
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule, method


def paths(rule):
    options = [{}]
    for name, converter in rule._converters.items():
        values = PATH_VALUES["int" if type(converter).__name__ == "IntegerConverter" else "default"]
        options = [dict(o, **{name: v}) for o in options for v in values]
    for values in options:
        path = rule.rule
        for name, value in values.items():
            path = path.replace(f"<int:{name}>", value).replace(f"<{name}>", value)
        yield path


def filled(schema, spec, text):
    """A body of the documented shape with ``text`` in every string that is not an enum."""
    if "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    for combined in ("anyOf", "oneOf", "allOf"):
        if combined in schema:
            return filled(schema[combined][0], spec, text)
    if "const" in schema or "enum" in schema:
        return schema.get("const", (schema.get("enum") or [None])[0])
    kind = schema.get("type")
    if isinstance(kind, list):  # ["string", "null"]: the first kind that is not null
        kind = next((each for each in kind if each != "null"), "null")
    if kind == "object" or "properties" in schema:
        return {name: filled(field, spec, text) for name, field in schema.get("properties", {}).items()}
    if kind == "array":
        return [filled(schema.get("items", {}), spec, text)]
    return {"integer": schema.get("minimum", 1), "number": 1, "boolean": True,
            "null": None}.get(kind, text)


def hostile_bodies(rule, method, spec):
    """The route's documented body with a lone surrogate in every string, and one in a key."""
    path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule)
    documented = spec["paths"].get(path, {}).get(method.lower(), {})
    schema = documented.get("requestBody", {}).get("content", {}).get("application/json", {})
    body = filled(schema.get("schema", {"type": "object"}), spec, "x" + SURROGATE)
    return [body, {SURROGATE: "x", "note": "y"}]


def caller(app, who):
    """A client and the headers of ``who`` (a demo login, a bus validator, or anonymous)."""
    if who == "validator":
        client, auth, _, _ = enrol_validator(app)
        return client, auth
    client = app.test_client()
    if who is None:
        return client, {}
    return client, {"X-CSRF-Token": login(client, who), "Idempotency-Key": "fuzz-key-0001"}


@pytest.mark.parametrize("who", ROLES)
def test_no_input_yields_a_500(seeded, who):
    seeded.config.update({name: "100000 per minute" for name in seeded.config
                          if name.endswith("_RATE_LIMIT")})
    client, headers = caller(seeded, who)
    spec = client.get("/openapi.json").json
    failures = []

    def call(path, method, body, raw=None):
        data = raw if raw is not None else (None if body is None else json.dumps(body))
        with client.open(path, method=method, data=data, headers=headers,
                         content_type="application/json" if data is not None else None) as response:
            if response.status_code >= 500:
                failures.append((method, path, raw[:40] if raw else body, response.status_code))
            elif response.status_code >= 400:
                # The national interface answers in its own envelope (docs/national-interface.md);
                # a message it cannot read at all is a problem document with infcode -1 as well.
                assert response.mimetype == "application/problem+json" or \
                    path.startswith("/his/"), (method, path)
                if path.startswith("/his/"):
                    answer = response.get_json()
                    assert answer["infcode"] == -1 and answer["err_msg"], (method, path)

    for rule, method in routes(seeded):
        every = list(paths(rule))
        for path in every:
            for body in GARBAGE if method in WRITES else [None]:
                call(f"{path}?{QUERIES[0]}", method, body)
        # The hostile families on one path of each route (the most plausible value), every query
        # on reads, every body on writes.
        path = every[-1]
        if rule.arguments:
            call(re.sub(r"<[^>]+>", SURROGATE_IN_PATH, rule.rule), method, {} if method in WRITES else None)
        if method in WRITES:
            for body in hostile_bodies(rule, method, spec):
                call(path, method, body)
            for raw in RAW:
                call(path, method, None, raw)
        else:
            for query in QUERIES[1:]:
                call(f"{path}?{query}", method, None)
    assert failures == [], "\n".join(map(str, failures))
