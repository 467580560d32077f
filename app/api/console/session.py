"""The console's login session: Flask's signed session cookie (SECRET_KEY), HttpOnly,
SameSite=Lax, Secure in production, sent to /console only.

It holds the operator's id, their token version and when they logged in, and the CSRF
token of the session. Every request loads the operator and compares: a logout (here or in
the API), a password change, a role change or disabling the account bumps the version and
ends the console session at once, as it ends the API's tokens; past ADMIN_TOKEN_TTL seconds
the operator logs in again.
"""
import hmac
import secrets
import time

from flask import current_app, request
from flask import session as cookie

from app import accounts
from app.errors import AppError, ConsoleError
from app.extensions import db
from app.operators.models import Operator

CSRF_FIELD = "csrf_token"  # the hidden field of every form
CSRF_HEADER = "X-CSRF-Token"  # htmx sends it (hx-headers on the layout's body)


def configure(app) -> None:
    app.config.update(SESSION_COOKIE_NAME="membermall_console", SESSION_COOKIE_PATH="/console",
                      SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax",
                      SESSION_COOKIE_SECURE=app.config["PRODUCTION"])


def csrf_token() -> str:
    """The session's CSRF token (made on the first page, the login page included)."""
    if CSRF_FIELD not in cookie:
        cookie[CSRF_FIELD] = secrets.token_urlsafe(32)
    return cookie[CSRF_FIELD]


def check_csrf() -> None:
    expected = cookie.get(CSRF_FIELD)
    sent = request.form.get(CSRF_FIELD) or request.headers.get(CSRF_HEADER) or ""
    if not expected or not hmac.compare_digest(expected.encode(), sent.encode()):
        raise AppError(ConsoleError.CSRF_INVALID)


def log_in(operator: Operator) -> None:
    """A new session (a new CSRF token too: nothing of the anonymous one carries over)."""
    cookie.clear()
    cookie.update(operator=operator.id, version=operator.token_version, since=int(time.time()))
    csrf_token()


def log_out(operator: Operator) -> None:
    """Ends every session and token of the account, as the API's logout does."""
    accounts.end_tokens(operator)
    cookie.clear()


def current_operator() -> Operator | None:
    """The session's operator, if the session still stands (same token version, in date, active)."""
    operator_id, version, since = cookie.get("operator"), cookie.get("version"), cookie.get("since")
    if not isinstance(operator_id, int) or not isinstance(since, int):
        return None
    if not 0 <= time.time() - since <= current_app.config["ADMIN_TOKEN_TTL"]:
        return None
    operator = db.session.get(Operator, operator_id)
    if operator is None or not operator.active or operator.token_version != version:
        return None
    return operator
