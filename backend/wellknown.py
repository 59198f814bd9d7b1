"""Public trust data: the issuer's JWKS, cacheable and open to any origin."""
import time

from flask import Blueprint, jsonify

from .issuer import current_ring

bp = Blueprint("wellknown", __name__)


@bp.get("/.well-known/jwks.json")
def jwks():
    response = jsonify(current_ring().jwks(int(time.time())))
    response.headers["Cache-Control"] = "public, max-age=300"
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response
