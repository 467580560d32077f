"""Password accounts (store staff and operators), and ending any account's tokens.

Every token carries its account's token version; bumping the version ends every token
issued before, at once (app/api/principals.py compares it where it loads the account).
A logout, a password change or reset, and disabling or enabling an account bump it.
"""
import logging

from sqlalchemy import select

from app.errors import AppError, AuthError
from app.extensions import db
from app.security import hash_password, password_matches

# Characters; the API's schemas and `flask create-operator` check it.
PASSWORD_LENGTH = (8, 128)

logger = logging.getLogger(__name__)


def authenticate(model, username: str, password: str):
    account = db.session.execute(select(model).where(model.username == username)).scalar_one_or_none()
    if not password_matches(account and account.password_hash, password) or not account.active:
        raise AppError(AuthError.AUTH_BAD_CREDENTIALS)
    return account


def create_account(model, username: str, password: str, **fields):
    account = model(username=username, password_hash=hash_password(password), **fields)
    db.session.add(account)
    db.session.flush()
    return account


def end_tokens(account) -> None:
    """Every token issued to the account so far opens nothing any more (in one UPDATE, so
    two bumps at once both count)."""
    account.token_version = type(account).token_version + 1
    db.session.flush()


def change_password(account, current: str, new: str, actor: str) -> None:
    """The account holder's own change: the current password first."""
    if not password_matches(account.password_hash, current):
        raise AppError(AuthError.CURRENT_PASSWORD_WRONG)
    set_password(account, new, actor)


def set_password(account, password: str, actor: str) -> None:
    account.password_hash = hash_password(password)
    end_tokens(account)
    _record(actor, "set the password of", account)


def set_active(account, active: bool, actor: str) -> None:
    account.active = active
    end_tokens(account)
    _record(actor, "enabled" if active else "disabled", account)


def _record(actor: str, change: str, account) -> None:
    """Who changed which account, in the application log (there is no audit table yet)."""
    logger.info("%s %s %s:%d", actor, change, account.__tablename__, account.id)
