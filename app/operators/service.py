"""Operator accounts: created by operators (the first one by `flask create-operator`)."""
from sqlalchemy.exc import IntegrityError

from app import accounts
from app.db_helpers import lock, newest_first
from app.errors import AppError, AuthError, StoreError
from app.extensions import db
from app.operators.models import Operator


def operators_page(before_id: int | None, limit: int) -> list[Operator]:
    """Newest first, `limit` accounts older than the cursor."""
    return newest_first(Operator, before_id, limit)


def create_operator(username: str, password: str, name: str) -> Operator:
    try:
        with db.session.begin_nested():
            return accounts.create_account(Operator, username, password, name=name)
    except IntegrityError:
        raise AppError(StoreError.USERNAME_TAKEN) from None


def set_operator_active(actor: Operator, operator_id: int, active: bool) -> Operator:
    """An operator cannot disable themselves, so one active operator always remains. Both
    rows are locked (ascending ids, the lock order) and the actor checked again under the
    lock: of two operators disabling each other at once, the second finds itself disabled."""
    if operator_id == actor.id and not active:
        raise AppError(StoreError.OPERATOR_SELF_DISABLE)
    locked = {id_: lock(Operator, id_) for id_ in sorted({actor.id, operator_id})}
    if not locked[actor.id].active:
        raise AppError(AuthError.AUTH_INVALID)
    operator = _found(locked[operator_id])
    accounts.set_active(operator, active, actor=f"admin:{actor.id}")
    return operator


def reset_operator_password(operator_id: int, password: str, actor: str) -> Operator:
    """An operator sets it (and passes it on); the account's tokens end."""
    operator = _found(db.session.get(Operator, operator_id))
    accounts.set_password(operator, password, actor)
    return operator


def _found(operator: Operator | None) -> Operator:
    if operator is None:
        raise AppError(StoreError.OPERATOR_NOT_FOUND)
    return operator
