"""Issuer-signed JSON documents (the revocation list a validator trusts offline)."""
import json

import jwt

from .errors import BadSignature, Malformed, UnknownKey

_JWS = jwt.api_jws.PyJWS(algorithms=["EdDSA"])


def sign_document(ring, payload, now):
    key = ring.signing_key(now)
    body = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    return _JWS.encode(body, key.private_key, algorithm="EdDSA",
                       headers={"kid": key.kid, "typ": None})


def verify_document(token, issuer_keys):
    try:
        header = _JWS.get_unverified_header(token)
        key = issuer_keys.get(header.get("kid"))
        if key is None:
            raise UnknownKey(f"kid {header.get('kid')!r} is not in the key set")
        return json.loads(_JWS.decode(token, key, algorithms=["EdDSA"]))
    except jwt.InvalidSignatureError:
        raise BadSignature() from None
    except (jwt.PyJWTError, ValueError, TypeError, AttributeError) as error:
        raise Malformed(str(error)) from None
