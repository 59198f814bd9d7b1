"""The failover test runs only from `make test-failover` (YIMA_FAILOVER=1): it starts a dozen
servers and takes minutes, so `make test` leaves this folder out."""
import os

if os.environ.get("YIMA_FAILOVER") != "1":
    collect_ignore_glob = ["test_*.py"]
