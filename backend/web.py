"""Serves the PWA: the app shell, its service worker and manifest, its modules and static files."""
import mimetypes
import os

from flask import Blueprint, send_from_directory

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
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
    response = _fresh(send_from_directory(PWA, "sw.js", mimetype="text/javascript"))
    response.headers["Service-Worker-Allowed"] = "/"
    return response


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
