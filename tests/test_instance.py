"""The zero-setup defaults: secrets made once in the instance folder, one shared embedded Redis."""
import os
import stat
import subprocess
import sys

import redis

from backend import create_app
from backend.service.embedded_redis import ensure_embedded_redis


def test_secret_key_is_generated_once_with_owner_only_access(tmp_path):
    instance = tmp_path / "instance"
    settings = {"INSTANCE_PATH": str(instance), "SECRET_KEY": "", "ID_HASH_KEY": "",
                "DATABASE_URL": f"sqlite:///{tmp_path}/db.sqlite3"}
    first = create_app(settings)
    second = create_app(settings)
    assert first.config["SECRET_KEY"] == second.config["SECRET_KEY"]
    assert len(first.config["SECRET_KEY"]) == 64
    for name in ("secret_key", "id_hash_key"):
        mode = stat.S_IMODE(os.stat(instance / name).st_mode)
        assert mode == 0o600, f"{name} is {oct(mode)}"
    assert stat.S_IMODE(os.stat(instance).st_mode) == 0o700


def test_an_explicit_secret_key_wins(tmp_path):
    app = create_app({"INSTANCE_PATH": str(tmp_path / "i"), "SECRET_KEY": "from-the-environment",
                      "DATABASE_URL": f"sqlite:///{tmp_path}/db.sqlite3"})
    assert app.config["SECRET_KEY"] == "from-the-environment"


def test_database_url_spellings_reach_psycopg3():
    from backend.service.config import normalise_database_url

    assert normalise_database_url("postgres://u@h/d") == "postgresql+psycopg://u@h/d"
    assert normalise_database_url("postgresql://u@h/d") == "postgresql+psycopg://u@h/d"
    assert normalise_database_url("sqlite:///x.db") == "sqlite:///x.db"


def test_processes_of_one_tree_share_one_embedded_redis(tmp_path):
    instance = str(tmp_path / "inst")
    url = ensure_embedded_redis(instance)
    assert url == "unix://" + os.path.join(instance, "redis.sock")
    redis.Redis.from_url(url).set("greeting", "from the parent")
    child = subprocess.run(
        [sys.executable, "-c",
         "import sys, redis; from backend.service.embedded_redis import ensure_embedded_redis as e;"
         "url = e(sys.argv[1]); print(url); print(redis.Redis.from_url(url).get('greeting').decode())",
         instance],
        capture_output=True, text=True, timeout=60, cwd=os.path.dirname(os.path.dirname(__file__)))
    assert child.returncode == 0, child.stderr
    assert child.stdout.split("\n")[:2] == [url, "from the parent"]
    info = redis.Redis.from_url(url).info("server")
    assert info["redis_version"].startswith("6.")
