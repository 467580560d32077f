"""Password accounts (store staff and operators)."""
from sqlalchemy import select

from app.errors import AppError
from app.extensions import db
from app.security import hash_password, password_matches


def authenticate(model, username: str, password: str):
    account = db.session.execute(select(model).where(model.username == username)).scalar_one_or_none()
    if not password_matches(account and account.password_hash, password) or not account.active:
        raise AppError("AUTH_BAD_CREDENTIALS")
    return account


def create_account(model, username: str, password: str, **fields):
    account = model(username=username, password_hash=hash_password(password), **fields)
    db.session.add(account)
    db.session.flush()
    return account
