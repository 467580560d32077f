"""Operator accounts: created by operators (the first one by `flask create-operator`)."""
from sqlalchemy import and_, or_
from sqlalchemy.exc import IntegrityError

from app import accounts
from app.db_helpers import lock_rows, locking, newest_first
from app.errors import AppError, AuthError, ConsoleError, StoreError
from app.extensions import db
from app.operators.models import Operator
from app.operators.roles import ADMIN


def operators_page(before_id: int | None, limit: int) -> list[Operator]:
    """Newest first, `limit` accounts older than the cursor."""
    return newest_first(Operator, before_id, limit)


def create_operator(username: str, password: str, name: str, role: str) -> Operator:
    try:
        with db.session.begin_nested():
            return accounts.create_account(Operator, username, password, name=name, role=role)
    except IntegrityError:
        raise AppError(StoreError.USERNAME_TAKEN) from None


def set_operator_active(actor: Operator, operator_id: int, active: bool) -> Operator:
    """An admin cannot disable themselves, so one active admin always remains (only an
    active admin disables anyone, and is checked again under the lock)."""
    if operator_id == actor.id and not active:
        raise AppError(StoreError.OPERATOR_SELF_DISABLE)
    locked = _lock_as_admin(actor, operator_id)
    operator = _found(locked.get(operator_id))
    accounts.set_active(operator, active, actor=f"admin:{actor.id}")
    return operator


def set_operator_role(actor: Operator, operator_id: int, role: str) -> Operator:
    """Change an account's role. The last active admin cannot lose the role (409
    OPERATOR_LAST_ADMIN): every active admin's row is locked with the two accounts, so two
    admins demoting themselves at once cannot both pass the count. The account's tokens
    end: a session keeps no role the account no longer has."""
    locked = _lock_as_admin(actor, operator_id, with_every_admin=True)
    operator = _found(locked.get(operator_id))
    if operator.role == role:
        return operator
    remaining = [other for other in locked.values() if other.role == ADMIN and other.active and other is not operator]
    if operator.role == ADMIN and not remaining:
        raise AppError(ConsoleError.OPERATOR_LAST_ADMIN)
    operator.role = role
    accounts.end_tokens(operator)
    return operator


def _lock_as_admin(actor: Operator, operator_id: int, with_every_admin: bool = False) -> dict[int, Operator]:
    """Lock the actor's and the target's rows (and every active admin's), ascending ids as the
    lock order says, and check again under the lock that the actor is an active admin: of two
    admins disabling or demoting each other at once, the second finds itself refused."""
    wanted = Operator.id.in_({actor.id, operator_id})
    if with_every_admin:
        wanted = or_(wanted, and_(Operator.role == ADMIN, Operator.active.is_(True)))
    locked = {row.id: row for row in lock_rows(locking(Operator, wanted))}
    if not locked[actor.id].active:
        raise AppError(AuthError.AUTH_INVALID)
    if locked[actor.id].role != ADMIN:
        raise AppError(AuthError.ROLE_FORBIDDEN)
    return locked


def reset_operator_password(operator_id: int, password: str, actor: str) -> Operator:
    """An operator sets it (and passes it on); the account's tokens end."""
    operator = _found(db.session.get(Operator, operator_id))
    accounts.set_password(operator, password, actor)
    return operator


def _found(operator: Operator | None) -> Operator:
    if operator is None:
        raise AppError(StoreError.OPERATOR_NOT_FOUND)
    return operator
