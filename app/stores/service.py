"""Stores and their staff accounts."""
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app import accounts
from app.db_helpers import newest_first
from app.errors import AppError, StoreError
from app.extensions import db
from app.stores.models import Staff, Store


def all_stores() -> list[Store]:
    """Every store, by id: the choices of a form (a handful of rows)."""
    return list(db.session.execute(select(Store).order_by(Store.id)).scalars())


def stores_page(before_id: int | None, limit: int) -> list[Store]:
    return newest_first(Store, before_id, limit)


def create_store(code: str, name: str, **details) -> Store:
    """A store; `details` are what members see of it (address, opening_hours, latitude, longitude)."""
    store = Store(code=code, name=name, **details)
    try:
        with db.session.begin_nested():
            db.session.add(store)
    except IntegrityError:
        raise AppError(StoreError.STORE_CODE_TAKEN) from None
    return store


def get_store(store_id: int) -> Store:
    store = db.session.get(Store, store_id)
    if store is None:
        raise AppError(StoreError.STORE_NOT_FOUND)
    return store


def update_store(store_id: int, **fields) -> Store:
    store = get_store(store_id)
    for name, value in fields.items():
        setattr(store, name, value)
    db.session.flush()
    return store


def create_staff(store_id: int, username: str, password: str, name: str, role: str) -> Staff:
    get_store(store_id)
    try:
        with db.session.begin_nested():
            return accounts.create_account(Staff, username, password, store_id=store_id, name=name, role=role)
    except IntegrityError:
        raise AppError(StoreError.USERNAME_TAKEN) from None


def staff_page(store_id: int | None, before_id: int | None, limit: int) -> list[Staff]:
    """Newest first, `limit` accounts older than the cursor; of one store if given."""
    return newest_first(Staff, before_id, limit, store_id=store_id)


def set_staff_active(staff_id: int, active: bool, actor: str) -> Staff:
    """Disabling ends the account's tokens at once, and its logins until it is enabled again."""
    staff = _staff(staff_id)
    accounts.set_active(staff, active, actor)
    return staff


def reset_staff_password(staff_id: int, password: str, actor: str) -> Staff:
    """The operator sets it (and tells the clerk, who may change it); the old tokens end."""
    staff = _staff(staff_id)
    accounts.set_password(staff, password, actor)
    return staff


def _staff(staff_id: int) -> Staff:
    staff = db.session.get(Staff, staff_id)
    if staff is None:
        raise AppError(StoreError.STAFF_NOT_FOUND)
    return staff
