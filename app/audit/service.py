"""Recording what an operator changes, with no help from the views that change it.

An HTTP layer (app/api, app/api/console) calls `begin()` as an operator's write request starts.
From then on the session's flushes are watched: every row inserted, updated or deleted
through the ORM is recorded with the columns that changed (before and after), and every
INSERT/UPDATE/DELETE statement run through the session (bulk updates, `written()` inserts)
with its table and values, an ORM bulk statement (a list of rows) once per row. Just
before the request's transaction commits, one AuditEntry is added to that same
transaction: a request that fails rolls back its entry with everything else, and no
committed change is left without its entry. An Idempotency-Key replay lands an entry with
no changes (it is a request; the first one holds the changes).

Only the first CHANGES_KEPT rows are kept, and all are counted. Columns and arguments
whose name holds a SECRET_WORDS word are kept as "***". Writes through a raw connection
(`db.session.connection().execute`, e.g. the Idempotency-Key's record) are not seen; they
are bookkeeping, not an operator's change.
"""
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import event, inspect
from sqlalchemy.orm import Session
from sqlalchemy.sql import ClauseElement

from app.audit.models import AuditEntry
from app.clock import local_time
from app.extensions import db

CHANGES_KEPT = 50
VALUES_KEPT = 50  # values of one statement
SECRET_WORDS = ("password", "secret")
HIDDEN = "***"
_TEXT_KEPT = 500  # characters of one value
_DRAFT = "audit_draft"  # session.info: the entry of the request under way


@dataclass
class _Draft:
    entry: dict
    path_args: dict
    changes: list = field(default_factory=list)
    count: int = 0

    def add(self, change: dict) -> None:
        self.count += 1
        if len(self.changes) < CHANGES_KEPT:
            self.changes.append(change)

    def add_rows(self, rows: list, change) -> None:
        """Count every row; build the change (`change(row)`) of the first ones only."""
        kept = rows[:max(CHANGES_KEPT - len(self.changes), 0)]
        self.changes.extend(change(row) for row in kept)
        self.count += len(rows)


def begin(operator, action: str, method: str, path: str, path_args: dict, arguments: dict,
          request_id: str) -> None:
    """The operator's write request starts: watch the session until its commit."""
    db.session.info[_DRAFT] = _Draft(
        entry={"operator_id": operator.id, "operator_name": operator.name, "action": action, "method": method,
               "path": path[:512], "arguments": hide_secrets(arguments), "request_id": request_id},
        path_args=path_args)


def hide_secrets(value):
    """`value` as JSON, with what a key naming a secret holds replaced by HIDDEN."""
    if isinstance(value, dict):
        return {str(key): HIDDEN if _secret(key) else hide_secrets(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [hide_secrets(item) for item in value]
    return _jsonable(value)


def _secret(name) -> bool:
    return any(word in str(name).lower() for word in SECRET_WORDS)


def _jsonable(value):
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, datetime):
        return local_time(value).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, ClauseElement):  # e.g. `token_version + 1`, computed by the database
        return "(SQL)"
    return str(value)[:_TEXT_KEPT]


def _columns(obj, only=None) -> dict:
    mapper = inspect(obj).mapper
    return {attr.key: HIDDEN if _secret(attr.key) else _jsonable(getattr(obj, attr.key))
            for attr in mapper.column_attrs if only is None or attr.key in only}


def _row(obj, op: str, before: dict | None, after: dict | None) -> dict:
    key = inspect(obj).mapper.primary_key_from_instance(obj)  # a new row's too: inserted by now
    return {"table": obj.__tablename__, "id": key[0] if len(key) == 1 else _jsonable(key), "op": op,
            "before": before, "after": after}


def _updated(obj) -> dict | None:
    state = inspect(obj)
    before, after = {}, {}
    for attr in state.mapper.column_attrs:
        history = state.attrs[attr.key].history
        if history.added or history.deleted:
            hidden = _secret(attr.key)
            before[attr.key] = HIDDEN if hidden else _jsonable(history.deleted[0] if history.deleted else None)
            after[attr.key] = HIDDEN if hidden else _jsonable(history.added[0] if history.added else None)
    return _row(obj, "update", before, after) if after else None


@event.listens_for(Session, "after_flush")
def _record_flush(session, _flush_context) -> None:
    """The rows this flush wrote (the session still lists them as new, dirty and deleted)."""
    draft = session.info.get(_DRAFT)
    if draft is None:
        return
    for obj in session.new:
        if not isinstance(obj, AuditEntry):
            draft.add(_row(obj, "insert", None, _columns(obj)))
    for obj in session.dirty:
        if (change := _updated(obj)) is not None:
            draft.add(change)
    for obj in session.deleted:
        draft.add(_row(obj, "delete", _columns(obj), None))


@event.listens_for(Session, "do_orm_execute")
def _record_statement(execute_state) -> None:
    """A DML statement run through the session: its table and the values it was given."""
    draft = execute_state.session.info.get(_DRAFT)
    if draft is None or not (execute_state.is_insert or execute_state.is_update or execute_state.is_delete):
        return
    op = "insert" if execute_state.is_insert else "update" if execute_state.is_update else "delete"
    statement = execute_state.statement
    table = getattr(getattr(statement, "table", None), "name", None)
    given = execute_state.parameters
    if isinstance(given, list):  # an ORM bulk INSERT or UPDATE: one row per dict, which holds its values
        rows, compiled = given, {}
    else:  # one statement: the values it holds (SET, VALUES, WHERE) and those given with it
        rows, compiled = [given or {}], statement.compile(dialect=execute_state.session.get_bind().dialect).params

    def change(row: dict) -> dict:
        values = list({**compiled, **row}.items())[:VALUES_KEPT]  # a multi-row VALUES names every row's values
        return {"table": table, "id": None, "op": op, "before": None, "after": hide_secrets(dict(values)),
                "statement": True}

    draft.add_rows(rows, change)


@event.listens_for(Session, "before_commit")
def _write_entry(session) -> None:
    """The request's changes are all flushed: add its entry to the same transaction."""
    draft = session.info.get(_DRAFT)
    if draft is None:
        return
    session.flush()  # changes still pending, recorded by _record_flush
    session.info.pop(_DRAFT)
    target_type, target_id = _target(draft)
    session.add(AuditEntry(**draft.entry, target_type=target_type, target_id=target_id,
                           changes=draft.changes, changes_count=draft.count))


def _target(draft: _Draft) -> tuple[str | None, str | None]:
    """The first `<name>_id` of the path, else the first row the request inserted or changed."""
    for name, value in draft.path_args.items():
        if name.endswith("_id"):
            return name.removesuffix("_id"), str(value)
    for change in draft.changes:
        if change["id"] is not None:
            return change["table"], str(change["id"])
    return None, None


@event.listens_for(Session, "after_transaction_end")
def _forget_draft(session, transaction) -> None:
    """A request's entry lives and dies with its transaction: after a rollback nothing of it is kept."""
    if transaction.parent is None:
        session.info.pop(_DRAFT, None)
