"""Limits on what one caller may send: rate-limit keys and values for Flask-Limiter, and the bound
on a request body. Numbers live in ``backend/service/config.py``; docs/security.md says why.

- Every anonymous write (POST, PUT, PATCH, DELETE without a session or bearer token) counts
  against its address: routes with a limit of their own (login, sign-up, enrolment) use that one,
  every other route Flask-Limiter's default limit (``ANONYMOUS_WRITE_RATE_LIMIT``), given in
  ``extensions.limiter``.
- A body over ``MAX_CONTENT_LENGTH`` bytes is a 413 before anything reads it: by its
  Content-Length when it has one, and after at most that many bytes when it is chunked (a
  chunked body must be smaller than the limit).
"""
from flask import current_app, request
from flask_login import current_user
from werkzeug.exceptions import RequestEntityTooLarge

WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


def principal_key():
    """One bucket per authenticated principal (an account, a hospital-system key's service
    account, a validator), so a busy counter behind a shared NAT does not throttle its neighbour;
    anonymous callers share their address's bucket."""
    if current_user.is_authenticated:
        return f"principal:{current_user.role}:{current_user.get_id()}"
    return f"addr:{request.remote_addr}"


def configured(name):
    """The limit string under config ``name``, read per request (tests and operators set it)."""
    return lambda: current_app.config[name]


def failed(response):
    """``deduct_when`` of limits that count wrong tries only (a wrong code, a bad proof), so a
    person's successes never use up their allowance. A refusal by a limit is not a try."""
    return 400 <= response.status_code < 500 and response.status_code != 429


def not_an_anonymous_write():
    """``exempt_when`` of the default limit: it counts anonymous writes only."""
    return request.method not in WRITE_METHODS or current_user.is_authenticated


def init_app(app):
    """Before the rate limiter (which may read the body for its key) and before any view."""
    app.before_request(bound_request_body)


def bound_request_body():
    """Refuse a body over ``MAX_CONTENT_LENGTH`` with a 413: at once when its Content-Length says
    so (werkzeug then reads no more than that length), and for a chunked body (no length; the WSGI
    server marks the stream ``wsgi.input_terminated``) by reading it here through werkzeug's
    stream, which stops at the limit — silently, so reaching it is the refusal. Below the limit
    the bytes stay cached for the view."""
    most = request.max_content_length
    if most is None:
        return
    if request.content_length is not None:
        if request.content_length > most:
            raise RequestEntityTooLarge()
    elif "wsgi.input_terminated" in request.environ:
        if len(request.get_data(cache=True)) >= most:
            raise RequestEntityTooLarge()
