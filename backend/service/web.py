"""Serves the PWA: the app shell, its service worker and manifest, its modules and static files."""
import functools
import hashlib
import mimetypes
import os
import re

from flask import Blueprint, Response, send_from_directory

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # the checkout
PWA = os.path.join(ROOT, "pwa")
STATIC = os.path.join(ROOT, "static")

bp = Blueprint("web", __name__)
mimetypes.add_type("application/wasm", ".wasm")  # WebAssembly.instantiateStreaming needs it
mimetypes.add_type("text/javascript", ".js")


def _fresh(response):
    # The service worker keeps versioned copies; the network copy must always be current.
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.get("/")
def shell():
    return _fresh(send_from_directory(PWA, "index.html"))


@bp.get("/sw.js")
def service_worker():
    response = _fresh(Response(service_worker_source(), mimetype="text/javascript"))
    response.headers["Service-Worker-Allowed"] = "/"
    return response


_VERSION = re.compile(r'const VERSION = "([^"]*)";')


@functools.lru_cache(maxsize=1)
def service_worker_source():
    """pwa/sw.js with its cache VERSION made from the contents of every file of the shell: any
    change to the app reaches phones as a new service worker, and nothing else does."""
    with open(os.path.join(PWA, "sw.js"), encoding="utf-8") as handle:
        source = handle.read()
    digest = hashlib.sha256(source.encode())
    for path in shell_paths(source):
        with open(shell_file(path), "rb") as handle:
            digest.update(path.encode() + b"\0" + handle.read())
    return _VERSION.sub(f'const VERSION = "yima-shell-{digest.hexdigest()[:12]}";', source, count=1)


def shell_paths(source):
    listing = re.search(r"const SHELL = \[(.*?)\];", source, re.S).group(1)
    return re.findall(r'"([^"]+)"', listing)


def shell_file(path):
    """The file behind a shell URL."""
    if path == "/":
        return os.path.join(PWA, "index.html")
    if path.startswith("/static/"):
        return os.path.join(STATIC, path[len("/static/"):])
    if path.startswith("/pwa/"):
        return os.path.join(PWA, path[len("/pwa/"):])
    return os.path.join(PWA, path.lstrip("/"))


@bp.get("/manifest.webmanifest")
def manifest():
    return _fresh(send_from_directory(PWA, "manifest.webmanifest",
                                      mimetype="application/manifest+json"))


@bp.get("/pwa/<path:path>")
def pwa_file(path):
    return _fresh(send_from_directory(PWA, path))


@bp.get("/static/<path:path>")
def static_file(path):
    return _fresh(send_from_directory(STATIC, path))
