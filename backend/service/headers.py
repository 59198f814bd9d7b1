"""Security headers on every response, and session cookies that are Secure whenever TLS is used.

One ``after_request`` sets them all (docs/security.md): a Content-Security-Policy with no inline
script (``'wasm-unsafe-eval'`` only for the zxing WASM behind the barcode-detector polyfill),
no framing, nosniff, no referrer, and HSTS when the request came over TLS (or the app is told it is
behind a TLS proxy with ``SERVED_OVER_TLS``)."""
import copy
import time

from flask import request
from flask.sessions import SecureCookieSessionInterface
from itsdangerous import BadSignature

CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self' 'wasm-unsafe-eval'",
    "style-src 'self'",
    "img-src 'self' data: blob:",
    "media-src 'self' blob: mediastream:",
    "connect-src 'self'",
    "worker-src 'self'",
    "manifest-src 'self'",
    "font-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])

HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(self), microphone=(), geolocation=(), payment=()",
}


def over_tls(app):
    return request.is_secure or app.config.get("SERVED_OVER_TLS", False)


class TlsAwareSessionInterface(SecureCookieSessionInterface):
    """The session cookie is Secure when configured so, and on every request that came over TLS.

    A cookie this worker has already verified is not verified again (issue 21: the signature
    check, key derivation and tagged-JSON decoding were ~5 % of a hospital verify): the memo maps
    the exact cookie value, under the same keys, to what ``loads`` gave and when it was signed;
    its age is checked against the same limit on every request, so an expired cookie is refused
    as before, and a forged or altered one is never in the memo."""

    MEMO_SIZE = 2048

    def __init__(self):
        self._memo = {}

    def get_cookie_secure(self, app):
        return super().get_cookie_secure(app) or over_tls(app)

    def open_session(self, app, request):
        if not app.secret_key:
            return None
        value = request.cookies.get(self.get_cookie_name(app))
        if not value:
            return self.session_class()
        max_age = int(app.permanent_session_lifetime.total_seconds())
        keys = (app.secret_key, tuple(app.config["SECRET_KEY_FALLBACKS"] or ()))
        known = self._memo.get(value)
        if known is None or known[0] != keys:
            try:
                data, signed_at = self.get_signing_serializer(app).loads(
                    value, max_age=max_age, return_timestamp=True)
            except BadSignature:
                return self.session_class()
            if len(self._memo) >= self.MEMO_SIZE:
                self._memo.clear()
            known = self._memo[value] = (keys, data, int(signed_at.timestamp()))
        _, data, signed_at = known
        if not 0 <= int(time.time()) - signed_at <= max_age:  # as itsdangerous's SignatureExpired
            return self.session_class()
        return self.session_class(copy.deepcopy(data))


def init_app(app):
    app.config.update(SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax",
                      REMEMBER_COOKIE_HTTPONLY=True, REMEMBER_COOKIE_SAMESITE="Lax")
    app.session_interface = TlsAwareSessionInterface()

    @app.after_request
    def security_headers(response):
        # One pass over the headers already set, instead of a scan per header (setdefault).
        present = {name.lower() for name in response.headers.keys()}
        response.headers.extend([(name, value) for name, value in HEADERS.items()
                                 if name.lower() not in present])
        if over_tls(app):
            response.headers["Strict-Transport-Security"] = \
                f"max-age={app.config['HSTS_SECONDS']}; includeSubDomains"
        if request.path.startswith("/api/") and "cache-control" not in present:
            response.headers["Cache-Control"] = "no-store"  # personal answers stay out of caches
        return response
