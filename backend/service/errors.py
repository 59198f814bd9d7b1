"""The one error hierarchy. Domain code raises these; ``backend.problems`` turns them into
RFC 9457 problem documents. ``code`` is the stable machine-readable name clients switch on."""


class YimaError(Exception):
    status = 400
    code = "bad_request"
    title = "Bad request"

    def __init__(self, detail=None, *, code=None, status=None, title=None, extra=None):
        super().__init__(detail or title or self.title)
        self.detail = detail or title or self.title
        if code:
            self.code = code
        if status:
            self.status = status
        if title:
            self.title = title
        self.extra = extra or {}


class ValidationFailed(YimaError):
    status = 422
    code = "validation_failed"
    title = "The request is not valid"


class NotFound(YimaError):
    status = 404
    code = "not_found"
    title = "Not found"


class Conflict(YimaError):
    status = 409
    code = "conflict"
    title = "Conflict"


class Unauthenticated(YimaError):
    status = 401
    code = "unauthenticated"
    title = "Login required"


class Forbidden(YimaError):
    status = 403
    code = "forbidden"
    title = "Not allowed"


class ServiceUnavailable(YimaError):
    status = 503
    code = "service_unavailable"
    title = "A backing service is unavailable"
