"""No input yields a 500: every API route, called by anonymous, a patient, a cashier and an admin,
with garbage bodies and odd path values, answers with a problem document below 500."""
import pytest
from phones import login

GARBAGE = [None, "not json", [], {}, {"code": None}, {"lines": "x", "scan_id": 5},
           {"amount_fen": -1}, {"public_jwk": {"kty": "OKP", "crv": "Ed25519", "x": "!!"},
                                "nonce": "x" * 500, "signature": 12},
           {"rides": [{"code": 1, "ridden_at": "now"}, "x", None]},
           {"login": "x" * 10_000, "password": ["p"]}, {"reason": "", "decision": "maybe", "note": 3}]
PATH_VALUES = {"int": ["1", "999999999999"], "default": ["x", "AAAAAAAAAAA", "%00", "H31011800001"]}


def routes(app):
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/"):
            continue
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


@pytest.mark.parametrize("who", [None, "demo-patient", "demo-cashier", "demo-admin"])
def test_no_input_yields_a_500(seeded, who):
    client = seeded.test_client()
    seeded.config["LOGIN_RATE_LIMIT"] = seeded.config["OTP_RATE_LIMIT"] = "10000 per minute"
    headers = {"X-CSRF-Token": login(client, who), "Idempotency-Key": "fuzz-key-0001"} if who else {}
    failures = []
    for rule, method in routes(seeded):
        for path in paths(rule):
            bodies = GARBAGE if method == "POST" else [None]
            for body in bodies:
                if body == "not json":
                    response = client.open(path, method=method, data="{oops", headers=headers,
                                           content_type="application/json")
                else:
                    response = client.open(path + "?since=-1&from=x&date=y&format=csv", method=method,
                                           json=body, headers=headers)
                if response.status_code >= 500:
                    failures.append((method, path, body, response.status_code))
                elif response.status_code >= 400:
                    assert response.mimetype == "application/problem+json", (method, path)
    assert failures == []
