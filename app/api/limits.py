"""Rate limits per caller, on Redis (in memory without it): the `limits` library.

Two kinds, as decorators on the views they guard (no other request pays for them):
- `rate_limit`: every request counts, e.g. logins per client address;
- `failed_attempts_limit`: only failed requests count, per staff account. A clerk
  scanning codes all day is fine; guessing codes is not.
A setting may hold several limits, e.g. "10/minute;30/hour": the first slows a guesser
down, the second locks the account out until its window ends. A refusal is 429
RATE_LIMITED with `details.retry_after`, the seconds until the exhausted window ends.
"""
import functools
import time
from collections.abc import Callable

from flask import current_app, g, request
from limits import RateLimitItem, parse_many
from limits.storage import storage_from_string
from limits.strategies import FixedWindowRateLimiter
from werkzeug.exceptions import HTTPException

from app.errors import AppError

_EXTENSION = "rate_limits"


def init_app(app) -> None:
    app.extensions[_EXTENSION] = FixedWindowRateLimiter(storage_from_string(app.config["RATELIMIT_STORAGE_URI"]))


def client_address() -> str:
    """Per client address (behind a proxy, configure ProxyFix): one key for everyone would
    let a single client, or a busy minute, lock every member out."""
    return request.remote_addr or "unknown"


def rate_limit(setting: str, scope: str, key: Callable[[], str]):
    """A decorator: each request counts against the limits in `setting`, per `key()`."""

    def decorate(view):
        @functools.wraps(view)
        def limited(*args, **kwargs):
            limiter, limits, identity = _limits_of(setting, scope, key())
            _refuse_if([limit for limit in limits if not limiter.hit(limit, *identity)], limiter, identity)
            return view(*args, **kwargs)

        return limited

    return decorate


def failed_attempts_limit(setting: str, scope: str,
                          failed: Callable[[int], bool] = lambda status: status >= 400):
    """A decorator: only requests whose status `failed` counts against the limits in
    `setting`, per caller (g.scope); once one is used up, every request is refused."""

    def decorate(view):
        @functools.wraps(view)
        def limited(*args, **kwargs):
            limiter, limits, identity = _limits_of(setting, scope, g.scope)
            _refuse_if([limit for limit in limits if not limiter.test(limit, *identity)], limiter, identity)
            try:
                reply = current_app.make_response(view(*args, **kwargs))
            except (AppError, HTTPException) as error:
                status = error.status if isinstance(error, AppError) else error.code
                if failed(status):
                    _hit(limiter, limits, identity)
                raise
            if failed(reply.status_code):
                _hit(limiter, limits, identity)
            return reply

        return limited

    return decorate


def _limits_of(setting: str, scope: str, key: str) -> tuple[FixedWindowRateLimiter, list[RateLimitItem], tuple]:
    config = current_app.config
    return current_app.extensions[_EXTENSION], parse_many(config[setting]), (config["RATELIMIT_KEY_PREFIX"], scope, key)


def _hit(limiter: FixedWindowRateLimiter, limits: list[RateLimitItem], identity: tuple) -> None:
    for limit in limits:
        limiter.hit(limit, *identity)


def _refuse_if(exhausted: list[RateLimitItem], limiter: FixedWindowRateLimiter, identity: tuple) -> None:
    if exhausted:
        reset_at = max(limiter.get_window_stats(limit, *identity).reset_time for limit in exhausted)
        raise AppError("RATE_LIMITED", details={"retry_after": max(int(reset_at - time.time()) + 1, 1)})

