"""A Yima server that dies on cue, for tests/test_faults.py.

Run as ``python fault_server.py SETTINGS_JSON``: it imports the app once, then for each line
``serve PORT FAULT N`` on stdin forks a child that serves the real app on 127.0.0.1:PORT and prints
the child's pid. FAULT is ``none``, ``before_commit`` or ``after_commit``: the child kills itself
(``os._exit``, no cleanup, like a SIGKILL) at the N-th database commit of a ride upload, before the
transaction commits or after it committed and before the answer is written. Forking from one
imported, single-threaded process makes a fresh server in milliseconds instead of seconds."""
import json
import os
import signal
import sys

from flask import has_request_context, request
from sqlalchemy import event
from sqlalchemy.orm import Session
from werkzeug.serving import make_server

from backend import create_app

CUT_PATH = "/api/v1/rides/batch"


def serve(settings, port, fault, n):
    app = create_app(settings)
    if fault != "none":
        commits = {"seen": 0}

        def die(_session):
            if has_request_context() and request.path == CUT_PATH:
                commits["seen"] += 1
                if commits["seen"] == n:
                    os._exit(70)
        event.listen(Session, fault, die)
    make_server("127.0.0.1", port, app, threaded=False).serve_forever()


def main():
    settings = json.loads(sys.argv[1])
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children are reaped by the kernel
    for line in sys.stdin:
        _, port, fault, n = line.split()
        pid = os.fork()
        if pid == 0:
            sys.stdin.close()
            try:
                serve(settings, int(port), fault, int(n))
            finally:
                os._exit(0)
        print(pid, flush=True)


if __name__ == "__main__":
    main()
