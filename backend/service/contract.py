"""The API contract: the schemas that validate requests are the ones /openapi.json publishes.

spectree (with pydantic v2 models, whose JSON Schema is draft 2020-12, as OpenAPI 3.1 expects)
validates request bodies and query strings and assembles the document from the routes it
decorates. What this module adds around it:

- a validation failure is our problem document (``invalid_json`` 400 for a body that is not a
  JSON object, ``validation_failed`` 422 with a ``fields`` map), raised as ``ValidationFailed``;
- the app's JSON reader (``JsonProvider``) refuses what no route takes before any code sees it:
  nesting deeper than ``MAX_JSON_DEPTH`` (``json_too_deep`` 400; Python's parser would otherwise
  raise RecursionError past ~1,000) and text that is not Unicode — a lone surrogate such as
  ``"\\ud800"``, which JSON's escapes allow but UTF-8 cannot encode (``invalid_text`` 422);
- responses are *not* re-validated or re-serialised at run time (a drift between view and
  document must never become a 500): tests/test_openapi.py checks them with schemathesis;
- error statuses are documented as ``application/problem+json`` with the ``Problem`` schema.

How a view declares its contract is described in ``backend/api/schemas.py``. A route without
``@api.validate`` is left out of the document, and tests/test_openapi.py then fails.
"""
import copy
import json
import os
import re

from flask import Blueprint, current_app, jsonify
from flask.json.provider import DefaultJSONProvider
from pydantic import BaseModel, ConfigDict
from spectree import Response, SpecTree
from spectree.plugins.flask_plugin import FlaskPlugin
from werkzeug.routing import IntegerConverter

from .errors import ValidationFailed

API_VERSION = "1"
BIGINT_MAX = 2**63 - 1  # the largest integer SQLite and a PostgreSQL bigint hold
MAX_JSON_DEPTH = 32  # the deepest body a route takes is 3 ({"rides": [{...}]})
SURROGATE = re.compile("[\ud800-\udfff]")
WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
PROBLEM_MEDIA_TYPE = "application/problem+json"
AUTOMATIC_422 = "(automatic)"

# What each error status means here, with the stable codes a client switches on.
ERROR_STATUSES = {
    400: "Bad request: `invalid_json` (the body is not a JSON object), `json_too_deep` (nested "
         f"deeper than {MAX_JSON_DEPTH}), `invalid_value` (a value the database cannot hold), or an "
         "operation-specific code.",
    401: "Not logged in (`unauthenticated`), or a wrong login (`invalid_credentials`).",
    403: "Logged in without the right role or scope (`forbidden`), or a cookie-authenticated "
         "write without the X-CSRF-Token header (`csrf_failed`).",
    404: "No such resource (`not_found` or an operation-specific `*_not_found`).",
    409: "Conflicts with the current state (e.g. `code_replayed`, an Idempotency-Key reused).",
    413: "The body is larger than the server takes (`payload_too_large`; 1 MiB by default, which "
         "holds a full batch of 500 rides).",
    422: "The request does not match the schema (`validation_failed`, with a `fields` map), text "
         "that is not Unicode (`invalid_text`, a lone surrogate), or the domain refused it (an "
         "operation-specific code).",
    429: "Too many attempts (`rate_limited`); wait and retry.",
    503: "A backing service (database, Redis) is not answering (`service_unavailable`). Retry "
         "after the Retry-After header; a retried payment with the same Idempotency-Key never "
         "pays twice.",
}


class Out(BaseModel):
    """A documented JSON response; keys beyond the listed ones may appear."""
    model_config = ConfigDict(extra="allow", json_schema_extra={"additionalProperties": True})


def database_int(url_map, *args, max=BIGINT_MAX, **kwargs):  # noqa: A002  (werkzeug's name)
    """The ``int`` path converter, up to what the database can hold: a larger number matches no
    route (404) instead of overflowing SQLite's integers (a 500). Still an IntegerConverter.

    The bound is in its regex, not only in its conversion: werkzeug answers a path whose number
    fails conversion with 405 when another rule has the same path with other methods (GET and
    POST ``/audit/flags/<int:flag_id>``), so a larger number must not match at all."""
    converter = IntegerConverter(url_map, *args, max=max, **kwargs)
    if max is not None and not converter.fixed_digits and not converter.signed:
        converter.regex = _digits_up_to(max)
    return converter


def _digits_up_to(most):
    """A regex of the decimal numbers 0..most (leading zeros allowed, as ``\\d+`` allows)."""
    digits = str(most)
    options = [rf"\d{{1,{len(digits) - 1}}}"] if len(digits) > 1 else []
    for i, digit in enumerate(digits):
        if digit != "0":
            rest = len(digits) - i - 1
            options.append(digits[:i] + f"[0-{int(digit) - 1}]" + (rf"\d{{{rest}}}" if rest else ""))
    options.append(digits)
    return "(?:" + "|".join(options) + ")"


class Problem(BaseModel):
    """An RFC 9457 problem document; ``code`` is the stable machine-readable name."""
    model_config = ConfigDict(extra="allow", json_schema_extra={"additionalProperties": True})

    type: str
    title: str
    status: int
    detail: str
    code: str
    request_id: str | None = None
    fields: dict[str, str] | None = None


class RefusedJson(ValueError):
    """Well-formed JSON that the API does not take. A ValueError, so that every
    ``get_json(silent=True)`` (a rate limit's key function, say) reads it as "no JSON" instead of
    failing; request validation then says why (``_unreadable``)."""

    def __init__(self, code, status, detail, fields=None):
        super().__init__(detail)
        self.problem = ValidationFailed(detail, code=code, status=status,
                                        extra={"fields": fields} if fields else None)


class JsonProvider(DefaultJSONProvider):
    """Flask's JSON, reading only what a route could want (``app.json``; see the module text)."""

    def loads(self, s, **kwargs):
        try:
            value = json.loads(s, **kwargs)
        except RecursionError:
            raise _too_deep() from None
        _check_shape(value)
        return value


def _too_deep():
    return RefusedJson("json_too_deep", 400,
                       f"The body is nested deeper than {MAX_JSON_DEPTH} levels.")


def _check_shape(value):
    """Depth and text of a parsed document, without recursion (a loop over a stack)."""
    stack = [(value, 1, "")]
    while stack:
        item, depth, where = stack.pop()
        if isinstance(item, str):
            if not item.isascii() and SURROGATE.search(item):
                _refuse_text(where)
            continue
        if isinstance(item, dict):
            children = item.items()
        elif isinstance(item, list):
            children = enumerate(item)
        else:
            continue
        if depth > MAX_JSON_DEPTH:
            raise _too_deep()
        for key, child in children:
            name = f"{where}.{key}" if where else str(key)
            if isinstance(key, str) and not key.isascii() and SURROGATE.search(key):
                _refuse_text(where)
            stack.append((child, depth + 1, name))


def _refuse_text(where):
    raise RefusedJson("invalid_text", 422,
                      "Text in the body is not valid Unicode (a lone surrogate such as \\ud800).",
                      {where or "body": "not valid Unicode text"})


def _unreadable(request):
    """Why a body is not a JSON object: the refusal of ``JsonProvider``, or plain invalid_json."""
    if request.is_json:
        try:
            current_app.json.loads(request.get_data(cache=True))
        except RefusedJson as refused:
            return refused.problem
        except ValueError:
            pass
    return ValidationFailed("The body must be a JSON object.", code="invalid_json", status=400)


class _Plugin(FlaskPlugin):
    """spectree's Flask plugin, with our problem documents and without response rewriting."""

    def request_validation(self, request, query, json, form, headers, cookies):
        if json is not None and not isinstance(request.get_json(silent=True), dict):
            raise _unreadable(request)
        super().request_validation(request, query, json, form, headers, cookies)

    def validate_response(self, resp, resp_model, skip_validation, force_resp_serialize):
        return resp, None


def _raise_problem(req, resp, error, instance, model_adapter):
    if error is None:
        return
    fields = {}
    for item in error.errors():
        name = ".".join(str(part) for part in item["loc"]) or "body"
        fields.setdefault(name, "required" if item["type"] == "missing" else item["msg"])
    raise ValidationFailed("Some fields are missing or have the wrong type.",
                           extra={"fields": fields})


class Responses(Response):
    """spectree's Response, with problem documents served as application/problem+json, and
    other media types where a route has them (``media={200: {"text/csv": {...}}}``)."""

    def __init__(self, *codes, media=None, **code_models):
        super().__init__(*codes, **code_models)
        self.media = media or {}

    def add_model(self, code, model, replace=True, description=None):
        if not replace and not self._has_configured_model(code):
            description = AUTOMATIC_422  # spectree's own 422; kept only where input is validated
        super().add_model(code, model, replace=replace, description=description)

    def generate_spec(self, *args, **kwargs):
        spec = super().generate_spec(*args, **kwargs)
        for code, model in self.code_models.items():
            if model is Problem:
                answer = spec[code[len("HTTP_"):]]
                answer["content"] = {PROBLEM_MEDIA_TYPE: answer["content"]["application/json"]}
        for status, content in self.media.items():
            spec[str(status)].setdefault("content", {}).update(content)
        return spec


def responses(*, errors=(), media=None, **success):
    """The statuses a route answers: ``HTTP_200=Model`` (or ``(Model, "description")``) for
    success, and ``errors`` — status codes, or ``{status: "description"}`` — as problem
    documents. 503 is added to every route; 400/422 where a body or query is validated."""
    described = errors if isinstance(errors, dict) else {status: None for status in errors}
    problems = {f"HTTP_{status}": (Problem, text or ERROR_STATUSES.get(status, "Problem"))
                for status, text in described.items()}
    problems.setdefault("HTTP_503", (Problem, ERROR_STATUSES[503]))
    return Responses(media=media, **success, **problems)


api = SpecTree(
    backend=_Plugin, mode="strict", annotations=False, page_templates={},
    before=_raise_problem, validation_error_model=Problem, path="api/docs",
    naming_strategy=lambda model: model.__name__, nested_naming_strategy=lambda _, child: child,
    title="Yima API", version=API_VERSION,
    description="Signed QR credentials for the zone's medical e-voucher and ride code. "
                "Errors are RFC 9457 problem documents with a stable `code`. Cookie-authenticated "
                "writes need the `csrf_token` from login in the X-CSRF-Token header.",
)


def json_body():
    """The validated JSON body of this request, as a dict of the fields the client sent."""
    from flask import request

    return request.context.json.model_dump(exclude_unset=True)


def document():
    """The OpenAPI 3.1 document of the current app (built once per app)."""
    cached = current_app.extensions.get("yima_openapi")
    if cached is None:
        cached = _finish(copy.deepcopy(api.spec))
        current_app.extensions["yima_openapi"] = cached
    return cached


def _finish(spec):
    """Tidy what spectree leaves generic: 422 only where input is validated, 400 and 413 with a
    body, 429 on every write (an anonymous one is limited everywhere: backend/service/limits.py),
    404 with path parameters, and path segments that cannot be empty or contain a slash."""
    for operations in spec["paths"].values():
        for method, operation in operations.items():
            answers = operation["responses"]
            has_body = "requestBody" in operation
            params = operation.get("parameters", [])
            has_query = any(p["in"] == "query" for p in params)
            if answers.get("422", {}).get("description") == AUTOMATIC_422:
                if has_body or has_query:
                    answers["422"]["description"] = ERROR_STATUSES[422]
                else:
                    del answers["422"]
            problem = {"$ref": "#/components/schemas/Problem"}
            if has_body:
                for status in (400, 413):
                    answers.setdefault(str(status), {"description": ERROR_STATUSES[status], "content": {
                        PROBLEM_MEDIA_TYPE: {"schema": problem}}})
            if method.upper() in WRITE_METHODS:
                answers.setdefault("429", {"description": ERROR_STATUSES[429], "content": {
                    PROBLEM_MEDIA_TYPE: {"schema": problem}}})
            for param in params:
                _drop_null(param["schema"])
                if param["in"] == "path":
                    answers.setdefault("404", {"description": ERROR_STATUSES[404], "content": {
                        PROBLEM_MEDIA_TYPE: {"schema": problem}}})
                    if param["schema"].get("type") == "string":
                        param["schema"].update(minLength=1, pattern="^[^/]+$")
                    elif param["schema"].get("type") == "integer":  # database_int
                        param["schema"].update(format="int64", minimum=0, maximum=BIGINT_MAX)
                    if not param.get("description"):
                        param.pop("description", None)
                elif not param.get("description"):
                    param.pop("description", None)
            unnamed = re.fullmatch(r"(\w+) <[A-Z]+>", operation.get("summary", ""))
            if unnamed:  # a view without a docstring: its name, as words
                operation["summary"] = unnamed.group(1).replace("_", " ").capitalize()
            if not operation.get("tags"):
                operation.pop("tags", None)
            if not operation.get("description"):
                operation.pop("description", None)
    spec["components"]["securitySchemes"] = {
        "session": {"type": "apiKey", "in": "cookie", "name": "session",
                    "description": "Set by POST /api/v1/auth/login; writes need X-CSRF-Token."},
        "bearer": {"type": "http", "scheme": "bearer",
                   "description": "Hospital-system keys (`yk_…`) and bus validators (`yv_…`)."},
    }
    spec.pop("security", None)
    return spec


def _drop_null(schema):
    """An optional query parameter is absent, never null: ``anyOf [X, null]`` becomes X."""
    options = schema.get("anyOf")
    if options and {"type": "null"} in options and len(options) == 2:
        del schema["anyOf"]
        schema.update(next(o for o in options if o != {"type": "null"}))
    if schema.get("default", 0) is None:
        del schema["default"]


# /openapi.json and the reference page (Swagger UI, vendored under static/vendor/swagger-ui/).
bp = Blueprint("contract", __name__)
STATIC = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                      "static")


@bp.get("/openapi.json")
def openapi_json():
    response = jsonify(document())
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.get("/api/docs")
def api_docs():
    with open(os.path.join(STATIC, "api-docs.html"), encoding="utf-8") as page:
        response = current_app.response_class(page.read(), mimetype="text/html")
    response.headers["Cache-Control"] = "no-cache"
    return response
