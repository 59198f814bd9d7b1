"""Past one machine, the parts that need no server: REDIS_URL's Sentinel form (client and
Flask-Limiter storage), DATABASE_URL with several hosts, the synchronous-commit setting and the
reports' read session. The servers themselves fail over in tests/failover (make test-failover)."""
import pytest
import redis
import redis.sentinel
from flask import g
from limits.storage import RedisStorage, storage_from_string
from redis.sentinel import SentinelConnectionPool
from sqlalchemy import text
from sqlalchemy.dialects.postgresql.psycopg import PGDialect_psycopg
from sqlalchemy.engine import make_url

from backend import create_app
from backend.service import redis_url
from backend.service.config import from_environment, normalise_database_url
from backend.service.extensions import READ_SESSION, db, limiter, redis_client
from backend.service.read_replica import read_engine, read_session


def test_a_sentinel_address_names_sentinels_service_and_db():
    address = redis_url.parse_sentinel_url(
        "redis+sentinel://:s%40cret@10.0.0.1:26380,10.0.0.2,[fd00::3]:26381/yima/10")
    assert address.sentinels == (("10.0.0.1", 26380), ("10.0.0.2", 26379), ("fd00::3", 26381))
    assert (address.service_name, address.db, address.password) == ("yima", 10, "s@cret")
    assert address.username is None and address.sentinel_password is None
    assert redis_url.parse_sentinel_url("redis+sentinel://h:1/yima").db == 0
    assert redis_url.parse_sentinel_url("redis+sentinel://h:1/yima/").db == 0
    own = redis_url.parse_sentinel_url("redis+sentinel://app:pw@h:1/yima/2?sentinel_password=sp")
    assert (own.username, own.password, own.sentinel_password) == ("app", "pw", "sp")
    assert own.sentinel_kwargs()["password"] == "sp" and own.connection_kwargs()["password"] == "pw"


@pytest.mark.parametrize("url, says", [
    ("redis+sentinel://h:1", "service name"),
    ("redis+sentinel://h:1/", "service name"),
    ("redis+sentinel://h:1/yima/ten", "whole number"),
    ("redis+sentinel://h:1/yima/1/2", "no more"),
    ("redis+sentinel://h:x/yima", "port"),
    ("redis+sentinel://h:1,/yima", "host is missing"),
    ("redis+sentinel://h:1/yima?ssl=true", "unknown"),
])
def test_a_bad_sentinel_address_is_refused_with_the_reason(url, says):
    with pytest.raises(ValueError, match=says):
        redis_url.parse_sentinel_url(url)
    with pytest.raises(ValueError):
        redis_url.limiter_storage_uri(url)  # at startup, not at the first limited request


def test_the_client_of_a_sentinel_address_is_the_services_primary_and_connects_lazily():
    client = redis_url.client("redis+sentinel://:pw@127.0.0.1:1,127.0.0.1:2/yima/7")
    pool = client.connection_pool
    assert isinstance(pool, SentinelConnectionPool) and pool.is_master
    assert pool.service_name == "yima"
    assert {k: pool.connection_kwargs[k] for k in ("db", "password", "socket_timeout")} == \
        {"db": 7, "password": "pw", "socket_timeout": redis_url.SOCKET_TIMEOUT}
    sentinels = pool.sentinel_manager.sentinels
    assert [s.connection_pool.connection_kwargs["port"] for s in sentinels] == [1, 2]
    assert sentinels[0].connection_pool.connection_kwargs["socket_timeout"] == \
        redis_url.SENTINEL_TIMEOUT
    # A dead sentinel is skipped at once, not retried (redis-py's default: ~5 s per discovery).
    assert sentinels[0].get_retry().get_retries() == 0
    # Commands on the master are not retried (as from_url's clients): a request fails fast, a 503.
    assert client.connection_pool.make_connection().retry.get_retries() == 0
    assert not pool._available_connections and not pool._in_use_connections  # nothing yet
    # No primary to be found is a ConnectionError, which the app answers with a 503.
    assert issubclass(redis.sentinel.MasterNotFoundError, redis.ConnectionError)


def test_plain_and_unix_addresses_keep_their_meaning():
    plain = redis_url.client("redis://127.0.0.1:6390/3")
    assert plain.connection_pool.connection_kwargs["db"] == 3
    assert plain.connection_pool.connection_kwargs["socket_timeout"] == redis_url.SOCKET_TIMEOUT
    unix = redis_url.client("unix:///tmp/x.sock?db=2")
    assert unix.connection_pool.connection_kwargs["path"] == "/tmp/x.sock"
    assert redis_url.limiter_storage_uri("redis://h:6379/3") == "redis://h:6379/3"
    assert redis_url.limiter_storage_uri("unix:///tmp/x.sock") == "redis+unix:///tmp/x.sock"


def test_the_limiter_counts_on_the_sentinels_primary_in_the_same_db():
    uri = redis_url.limiter_storage_uri("redis+sentinel://:pw@127.0.0.1:1,127.0.0.1:2/yima/5")
    storage = storage_from_string(uri)
    assert isinstance(storage, redis_url.SentinelLimiterStorage)
    assert storage.service_name == "yima" and storage.use_replicas is False
    kwargs = storage.storage.connection_pool.connection_kwargs
    assert (kwargs["db"], kwargs["password"]) == (5, "pw")
    assert storage.sentinel.sentinel_kwargs["socket_timeout"] == redis_url.SENTINEL_TIMEOUT


def test_an_app_on_sentinel_and_the_next_app_on_plain_redis(tmp_path):
    """Flask-Limiter's limiter is one object for the process: a Sentinel app must leave nothing
    behind that the next app (plain Redis) would inherit."""
    base = {"INSTANCE_PATH": str(tmp_path / "i"), "SECRET_KEY": "k", "ID_HASH_KEY": "h",
            "DATABASE_URL": f"sqlite:///{tmp_path}/db.sqlite3"}
    on_sentinel = create_app({**base, "REDIS_URL": "redis+sentinel://127.0.0.1:1/yima/4"})
    assert on_sentinel.config["RATELIMIT_STORAGE_URI"] == "yima+sentinel://127.0.0.1:1/yima/4"
    assert isinstance(limiter.storage, redis_url.SentinelLimiterStorage)
    assert isinstance(redis_client.client(on_sentinel).connection_pool, SentinelConnectionPool)
    plain = create_app({**base, "REDIS_URL": "redis://127.0.0.1:1/4"})
    assert type(limiter.storage) is RedisStorage
    assert plain.config.get("RATELIMIT_STORAGE_OPTIONS") is None


def test_several_database_hosts_reach_libpq_as_one_host_list():
    url = normalise_database_url(
        "postgresql://yima:pw@10.0.0.1:5432,10.0.0.2:5433/yima?target_session_attrs=read-write"
        "&connect_timeout=2")
    assert url == ("postgresql+psycopg://yima:pw@/yima?host=10.0.0.1,10.0.0.2&port=5432,5433"
                   "&target_session_attrs=read-write&connect_timeout=2")
    _, params = PGDialect_psycopg().create_connect_args(make_url(url))
    assert params == {"dbname": "yima", "user": "yima", "password": "pw",
                      "host": "10.0.0.1,10.0.0.2", "port": "5432,5433",
                      "target_session_attrs": "read-write", "connect_timeout": "2"}
    assert normalise_database_url("postgres://u@h1,h2/d") == "postgresql+psycopg://u@/d?host=h1,h2"
    assert normalise_database_url("postgresql+psycopg://u@h:1/d") == "postgresql+psycopg://u@h:1/d"
    with pytest.raises(ValueError, match="not both"):
        normalise_database_url("postgresql://u@h1,h2/d?host=h3")


def test_the_synchronous_commit_setting_takes_only_levels_that_keep_the_commit():
    assert from_environment({})["DB_SYNCHRONOUS_COMMIT"] == ""
    assert from_environment({"YIMA_DB_SYNCHRONOUS_COMMIT": "Remote_Apply"})[
        "DB_SYNCHRONOUS_COMMIT"] == "remote_apply"
    with pytest.raises(ValueError, match="YIMA_DB_SYNCHRONOUS_COMMIT"):
        from_environment({"YIMA_DB_SYNCHRONOUS_COMMIT": "off"})


def test_reports_read_the_primary_without_a_read_url(app):
    with app.test_request_context():
        assert read_session() is db.session
        assert read_engine(app) is None


def test_reports_read_their_own_session_on_the_read_url_closed_with_the_request(app):
    app.config["DATABASE_READ_URL"] = app.config["SQLALCHEMY_DATABASE_URI"]
    try:
        with app.test_request_context():
            session = read_session()
            assert session is not db.session and read_session() is session
            assert session.get_bind() is read_engine(app)
            assert session.execute(text("SELECT count(*) FROM accounts")).scalar() == 0
            assert session.in_transaction()
        assert not session.in_transaction()  # closed at the end of the request
        with app.test_request_context():
            assert g.get(READ_SESSION) is None
    finally:
        read_engine(app).dispose()
