"""Rate limits that count failures only, per caller (Flask-Limiter on Redis).

A clerk scanning codes all day is fine; guessing codes is not. A setting may hold
several limits, e.g. "10/minute;30/hour": the first slows a guesser down, the second
locks the account out until its window ends.
"""
from collections.abc import Callable

from flask import Response, current_app, g

from app.extensions import limiter


def failed_attempts_limit(setting: str, scope: str,
                          failed: Callable[[Response], bool] = lambda response: response.status_code >= 400):
    """A decorator limiting the caller's (g.scope) failed requests to the limits in `setting`."""
    return limiter.shared_limit(lambda: current_app.config[setting], scope=scope, key_func=lambda: g.scope,
                                deduct_when=failed)
