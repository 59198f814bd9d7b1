"""Rate-limit keys and values for Flask-Limiter (numbers in ``backend.config``, docs/security.md)."""
from flask import current_app, request
from flask_login import current_user


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
