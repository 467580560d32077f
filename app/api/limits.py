"""Rate limits per caller, on Redis (in memory without it): the `limits` library.

Two kinds:
- `rate_limit`, a decorator: every request counts, e.g. logins per client address;
- `failed_attempts_limit`, a guard around the step that can be guessed (resolving a
  member or coupon code, checking a password): only its failures count, per key (the
  staff account by default, the username for logins). A clerk scanning codes all day is
  fine; guessing codes is not.
A setting may hold several limits, e.g. "10/minute;30/hour": the first slows a guesser
down, the second locks the key out until its window ends. A refusal is 429 RATE_LIMITED
with `details.retry_after` (and the Retry-After header), the seconds until the exhausted
window ends.

A failed attempt is checked and counted in one atomic step: the guard refuses at once
when a window is already used up, and a failure then increments the counters (a Redis
INCR) and is answered 429 instead of its own error if that increment went past a limit.
So however many guesses arrive in parallel, exactly the limit's number get an answer.

Redis down: the guessing limits fail closed (503 SERVICE_UNAVAILABLE with Retry-After:
without their counter, codes and passwords could be guessed at full speed); the
per-address rate fails open with a warning logged (it only spreads load, and failing
closed would stop every member login with Redis).
"""
import functools
import logging
import time
from collections.abc import Callable
from contextlib import contextmanager

from flask import current_app, g, request
from limits import RateLimitItem, parse_many
from limits.errors import StorageError
from limits.storage import storage_from_string
from limits.strategies import FixedWindowRateLimiter

from app.errors import AppError, RequestError

_EXTENSION = "rate_limits"
# Seconds a client is told to wait when the limits' storage is down.
STORAGE_DOWN_RETRY_AFTER = 5

logger = logging.getLogger(__name__)


def init_app(app) -> None:
    storage = storage_from_string(app.config["RATELIMIT_STORAGE_URI"], wrap_exceptions=True)
    app.extensions[_EXTENSION] = FixedWindowRateLimiter(storage)


def client_address() -> str:
    """Per client address (behind proxies, set TRUSTED_PROXY_COUNT): one key for everyone
    would let a single client, or a busy minute, lock every member out."""
    return request.remote_addr or "unknown"


def rate_limit(setting: str, scope: str, key: Callable[[], str]):
    """A decorator: each request counts against the limits in `setting`, per `key()`."""

    def decorate(view):
        @functools.wraps(view)
        def limited(*args, **kwargs):
            limiter, limits, identity = _limits_of(setting, scope, key())
            try:
                _refuse_if([limit for limit in limits if not limiter.hit(limit, *identity)], limiter, identity)
            except StorageError as error:  # fails open, see the module's docstring
                logger.warning("%s not enforced, the rate limits' storage failed: %s", setting, error)
            return view(*args, **kwargs)

        limited.rate_limited = True  # the document lists RATE_LIMITED (app/api/error_docs.py)
        return limited

    return decorate


def failed_attempts_limit(setting: str, scope: str, counted: Callable[[AppError], bool] = lambda error: True):
    """A guard, `with guard(key):` around the step that can be guessed: refused while a
    window of `setting` is used up; each AppError from the step that is `counted` counts,
    per `key` (default: the caller, g.scope)."""

    @contextmanager
    def guard(key: str | None = None):
        limiter, limits, identity = _limits_of(setting, scope, key or g.scope)
        with _failing_closed():
            _refuse_if([limit for limit in limits if not limiter.test(limit, *identity)], limiter, identity)
        try:
            yield
        except AppError as error:
            if counted(error):
                with _failing_closed():  # every window counts the failure: hit them all, then judge
                    _refuse_if([limit for limit in limits if not limiter.hit(limit, *identity)], limiter, identity)
            raise

    return guard


@contextmanager
def _failing_closed():
    try:
        yield
    except StorageError as error:
        logger.warning("refused: the rate limits' storage failed: %s", error)
        raise AppError(RequestError.SERVICE_UNAVAILABLE, details={"retry_after": STORAGE_DOWN_RETRY_AFTER}) from error


# The logins' limits, shared by the API's logins and the console's (app/api/console): per client
# address, and per username too: spreading a guesser over many addresses must not help it.
# A failed login's key is "<audience>:<username>", so the API and the console count together.
login_rate = rate_limit("LOGIN_RATE", "login", client_address)
failed_logins = failed_attempts_limit("LOGIN_FAILURES_PER_ACCOUNT", "login-failures")


def _limits_of(setting: str, scope: str, key: str) -> tuple[FixedWindowRateLimiter, list[RateLimitItem], tuple]:
    config = current_app.config
    return current_app.extensions[_EXTENSION], parse_many(config[setting]), (config["RATELIMIT_KEY_PREFIX"], scope, key)


def _refuse_if(exhausted: list[RateLimitItem], limiter: FixedWindowRateLimiter, identity: tuple) -> None:
    if exhausted:
        reset_at = max(limiter.get_window_stats(limit, *identity).reset_time for limit in exhausted)
        raise AppError(RequestError.RATE_LIMITED, details={"retry_after": max(int(reset_at - time.time()) + 1, 1)})
