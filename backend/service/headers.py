"""Security headers on every response, and session cookies that are Secure whenever TLS is used.

One ``after_request`` sets them all (docs/security.md): a Content-Security-Policy with no inline
script (``'wasm-unsafe-eval'`` only for the zxing WASM behind the barcode-detector polyfill),
no framing, nosniff, no referrer, and HSTS when the request came over TLS (or the app is told it is
behind a TLS proxy with ``SERVED_OVER_TLS``)."""
from flask import request
from flask.sessions import SecureCookieSessionInterface

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
    """The session cookie is Secure when configured so, and on every request that came over TLS."""

    def get_cookie_secure(self, app):
        return super().get_cookie_secure(app) or over_tls(app)


def init_app(app):
    app.config.update(SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax",
                      REMEMBER_COOKIE_HTTPONLY=True, REMEMBER_COOKIE_SAMESITE="Lax")
    app.session_interface = TlsAwareSessionInterface()

    @app.after_request
    def security_headers(response):
        for name, value in HEADERS.items():
            response.headers.setdefault(name, value)
        if over_tls(app):
            response.headers["Strict-Transport-Security"] = \
                f"max-age={app.config['HSTS_SECONDS']}; includeSubDomains"
        if request.path.startswith("/api/") and "Cache-Control" not in response.headers:
            response.headers["Cache-Control"] = "no-store"  # personal answers stay out of caches
        return response
