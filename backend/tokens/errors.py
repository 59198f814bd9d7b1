"""Why a code or credential is refused. Each class carries its stable public ``code``; the web
layer maps them once (backend/problems.py)."""


class TokenError(Exception):
    code = "token_error"
    title = "The code was refused"

    def __init__(self, detail=None):
        super().__init__(detail or self.title)


class Malformed(TokenError):
    code, title = "code_malformed", "This is not a readable Yima code"


class UnknownKey(TokenError):
    code, title = "unknown_kid", "Signed by a key this verifier does not know"


class BadSignature(TokenError):
    code, title = "bad_signature", "The issuer's signature does not match"


class CredentialExpired(TokenError):
    code, title = "credential_expired", "The credential has expired"


class CredentialNotYetValid(TokenError):
    code, title = "credential_not_yet_valid", "The credential is not valid yet"


class WrongKind(TokenError):
    code, title = "wrong_kind", "Wrong kind of code for this place"


class BadDeviceSignature(TokenError):
    code, title = "bad_device_signature", "The phone's signature does not match"


class CodeExpired(TokenError):
    code, title = "code_expired", "The code has expired"


class CodeNotYetValid(TokenError):
    code, title = "code_not_yet_valid", "The code is from the future (check the phone's clock)"


class Revoked(TokenError):
    code, title = "credential_revoked", "The credential was revoked"


class Replayed(TokenError):
    code, title = "code_replayed", "The code was already used"


ALL = (Malformed, UnknownKey, BadSignature, CredentialExpired, CredentialNotYetValid, WrongKind,
       BadDeviceSignature, CodeExpired, CodeNotYetValid, Revoked, Replayed)
CODES = tuple(error.code for error in ALL)
