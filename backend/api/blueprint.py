"""The /api/v1 blueprint, its CSRF check, and the body reader of views that check bodies themselves."""
from flask import Blueprint, request

from ..service.errors import ValidationFailed
from ..service.security import check_csrf

bp = Blueprint("api", __name__, url_prefix="/api/v1")
CSRF_EXEMPT = {"api.login", "api.signup_code", "api.signup_account", "api.validator_enrol"}


@bp.before_request
def _csrf():
    if request.endpoint not in CSRF_EXEMPT:
        check_csrf()


def read_json(**fields):
    """The request's JSON object with ``fields`` (name=type) present and of the right type.

    Superseded by ``@api.validate(json=Model)`` and ``json_body()`` (backend/api/schemas.py),
    which also put the body into /openapi.json; kept for views that check bodies themselves."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ValidationFailed("The body must be a JSON object.", code="invalid_json", status=400)
    problems = {}
    for name, kind in fields.items():
        if name not in body:
            problems[name] = "required"
        elif not isinstance(body[name], kind) or isinstance(body[name], bool) and kind is not bool:
            problems[name] = f"must be {getattr(kind, '__name__', 'of the right type')}"
    if problems:
        raise ValidationFailed("Some fields are missing or have the wrong type.",
                               extra={"fields": problems})
    return body

