"""Public trust data: the issuer's JWKS, cacheable and open to any origin."""
import time

from flask import Blueprint, jsonify

from .contract import Out, api, responses
from .issuer import current_ring

bp = Blueprint("wellknown", __name__)


class JwksOut(Out):
    keys: list[dict]


@bp.get("/.well-known/jwks.json")
@api.validate(resp=responses(HTTP_200=JwksOut), tags=["trust"])
def jwks():
    response = jsonify(current_ring().jwks(int(time.time())))
    response.headers["Cache-Control"] = "public, max-age=300"
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response
