"""Stores and their staff accounts."""
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.accounts import create_account
from app.errors import AppError
from app.extensions import db
from app.stores.models import Staff, Store


def all_stores() -> list[Store]:
    return list(db.session.execute(select(Store).order_by(Store.id)).scalars())


def create_store(code: str, name: str) -> Store:
    store = Store(code=code, name=name)
    try:
        with db.session.begin_nested():
            db.session.add(store)
    except IntegrityError:
        raise AppError("STORE_CODE_TAKEN") from None
    return store


def create_staff(store_id: int, username: str, password: str, name: str, role: str) -> Staff:
    if db.session.get(Store, store_id) is None:
        raise AppError("STORE_NOT_FOUND")
    try:
        with db.session.begin_nested():
            return create_account(Staff, username, password, store_id=store_id, name=name, role=role)
    except IntegrityError:
        raise AppError("USERNAME_TAKEN") from None
