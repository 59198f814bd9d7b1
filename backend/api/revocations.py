"""The issuer-signed, versioned revocation list that offline validators cache."""
import time

from flask import jsonify, request

from ..patients import credentials
from ..service.errors import ValidationFailed
from ..service.extensions import db
from ..service.issuer import current_ring
from ..tokens.documents import sign_document
from .blueprint import bp
from .schemas import RevocationsOut, RevocationsQuery, api, responses


@bp.get("/revocations")
@api.validate(query=RevocationsQuery,
              resp=responses(HTTP_200=RevocationsOut,
                             errors={422: "`bad_since`: not a whole number"}),
              tags=["trust"])
def revocations():
    since = request.args.get("since", "0")
    if not since.isdigit() or len(since) > 18:
        raise ValidationFailed("since must be a whole number ≥ 0", code="bad_since")
    now = int(time.time())
    listing = credentials.revocation_list(db.session, int(since), now)
    document = sign_document(current_ring(), listing, now)
    response = jsonify(version=listing["version"], since=listing["since"], jti=listing["jti"],
                       signed=document)
    response.headers["Cache-Control"] = "no-cache"
    return response
