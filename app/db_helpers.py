"""Small database idioms the services share, and the lock order every path obeys.

The lock order (one policy; a path that takes row locks in another order can deadlock
against one that obeys it):
1. members, in ascending id: a write that may touch several members (a referral pays
   the inviter, always the older member) locks them all before anything else, with
   app/member_row.py's `lock_members` or one statement from `locking`, never the lower id
   after the higher;
2. then the staff account (a purchase sums its account's day under it), then the
   purchase (a refund: the member first, then the purchase);
3. then the coupon template (its guarded `issued_count`), then the item (its guarded
   stock, taken last, just before the commit).
A batch job locks its members with SKIP LOCKED (`lock_members(..., skip_locked=True)`) and
handles the ones it skipped one member at a time, never waiting on a row while holding
a batch. Operator accounts are locked only with each other (ascending id), before any
other row. No external call (WeChat) while a row lock is held: call first, then lock.
The rows locked here are checked against this order as they are locked (`lock_rows`):
a path that breaks it fails at once, in the tests, rather than deadlocking one day.
"""
import functools

from sqlalchemy import String, and_, bindparam, cast, event, insert, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session, lazyload, make_transient_to_detached
from sqlalchemy.sql.functions import FunctionElement

from app.extensions import db

_HELD = "rows_locked"  # session.info: (model, id) of rows locked in the current transaction
LOCK_ORDER = ("operators", "members", "staff", "purchases")  # the tables whose rows are locked here, in the lock order


def lock(model, id_):
    """Load one row and hold its lock until commit (SQLite: transactions are IMMEDIATE).

    FOR NO KEY UPDATE: we never change keys, so rows that merely reference this one
    (their foreign key takes a key-share lock) can still be inserted meanwhile.
    Relationships load lazily, after the lock: a joined eager load in the locking query
    would be re-checked by PostgreSQL against the updated row and come back empty
    (e.g. `member.tier` None after a concurrent tier change).
    A row this transaction already holds is not locked again: the session has it as of
    the lock and our own writes since.
    """
    if (model, id_) in _held():
        return db.session.get(model, id_)
    rows = lock_rows(_lock_statement(model), {"id": id_})
    return rows[0] if rows else None


def lock_all(model, ids) -> list:
    """Lock several rows in one statement, in ascending id (the lock order); those already held are
    not locked again. Returns the rows of all `ids` that exist, in ascending id."""
    ids, held = sorted(set(ids)), _held()
    if new := [id_ for id_ in ids if (model, id_) not in held]:
        lock_rows(locking(model, model.id.in_(new)))
    return [db.session.get(model, id_) for id_ in ids if (model, id_) in held]


def locking(model, where, skip_locked: bool = False):
    """SELECT the rows `where` matches FOR NO KEY UPDATE, in ascending id (see lock()); with
    `skip_locked`, rows another transaction holds are left out (a batch job's way)."""
    return (
        select(model)
        .where(where)
        .order_by(model.id)
        .options(lazyload("*"))
        .with_for_update(of=model, key_share=True, skip_locked=skip_locked)
        .execution_options(populate_existing=True)
    )


def lock_rows(statement, params: dict | None = None) -> list:
    """Run a `locking` statement; the rows it returns are held until the transaction ends.
    A row it locks anew that comes before one held already breaks the lock order: RuntimeError."""
    rows = db.session.execute(statement, params or {}).scalars().all()
    held = _held()
    new = {(type(row), row.id) for row in rows} - held
    if new and held and min(map(_place, new)) < max(map(_place, held)):
        raise RuntimeError(f"lock order broken: {sorted(map(_place, new))} after {sorted(map(_place, held))}")
    held.update(new)
    return rows


def _place(held_row: tuple) -> tuple:
    """Where a (model, id) comes in the lock order."""
    model, id_ = held_row
    return LOCK_ORDER.index(model.__tablename__), id_


def _held() -> set:
    return db.session.info.setdefault(_HELD, set())


@functools.cache
def _lock_statement(model):
    """Built once per model: building a statement costs more than running it."""
    return locking(model, model.id == bindparam("id"))


@event.listens_for(Session, "after_transaction_end")
def _forget_locks(session, transaction) -> None:
    """Locks end with the transaction. A savepoint's end forgets them too (its rollback
    releases the locks taken inside it); a flush's internal subtransaction does not."""
    if transaction.parent is None or transaction.nested:
        session.info.pop(_HELD, None)


def end_transaction() -> None:
    """End the request's transaction before a call to WeChat, which may be slow: an open one
    holds its row locks and, on SQLite (BEGIN IMMEDIATE, even to read), every writer."""
    db.session.commit()


def written(obj):
    """Write a new object with one INSERT built once per model, and attach it to the
    session as if loaded: the unit of work's flush costs several times the statement.
    Every column is written as the object holds it: defaults are not applied, so give
    each column that has one."""
    db.session.flush()  # what the ORM would do first: rows this one refers to may be pending
    table = type(obj).__table__
    [key] = table.primary_key.columns
    values = {column.key: getattr(obj, column.key) for column in table.columns if column is not key}
    for name, value in values.items():  # set even the None ones: an unset column would load again
        setattr(obj, name, value)
    setattr(obj, key.key, db.session.connection().execute(_insert_statement(table), values).scalar_one())
    make_transient_to_detached(obj)
    db.session.add(obj)
    return obj


@functools.cache
def _insert_statement(table):
    return insert(table).returning(*table.primary_key.columns)


def insert_ignoring_conflict(model, values: dict, conflict_columns: list[str]) -> bool:
    """INSERT … ON CONFLICT DO NOTHING; True if this call inserted the row.

    A concurrent twin waits on the unique index and then inserts nothing, instead of
    failing the whole transaction with an IntegrityError. Whether a row was inserted is
    read from RETURNING: with it (which SQLAlchemy adds anyway to fetch the new primary
    key) psycopg reports no rowcount.
    """
    stmt = insert_or_nothing(model, conflict_columns).values(**values).returning(*model.__table__.primary_key.columns)
    return db.session.execute(stmt).first() is not None


def insert_or_nothing(model, conflict_columns: list[str], dialect: str | None = None):
    """INSERT … ON CONFLICT (conflict_columns) DO NOTHING, in the dialect given or the session's."""
    dialect = dialect or db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return insert(model).on_conflict_do_nothing(index_elements=conflict_columns)


def insert_many_ignoring_conflict(model, rows: list[dict], conflict_columns: list[str], returning,
                                  chunk: int = 1000) -> list:
    """Multi-row INSERT … ON CONFLICT DO NOTHING RETURNING (in chunks, under the databases'
    bound-parameter limits): the rows this call inserted."""
    inserted = []
    for start in range(0, len(rows), chunk):
        stmt = insert_or_nothing(model, conflict_columns).values(rows[start:start + chunk]).returning(*returning)
        inserted += db.session.execute(stmt).all()
    return inserted


def older_than(model, before_id: int | None) -> list:
    """The cursor's condition of a newest-first page (none on the first page)."""
    return [] if before_id is None else [model.id < before_id]


def newest_first(model, before_id: int | None, limit: int, *where, options: tuple = (), **equal_to) -> list:
    """A page of rows, newest (highest id) first, older than the cursor (the last id seen), that match
    `where` and `equal_to`; None values of `equal_to` filter nothing; `options` load what the page shows
    with it (selectinload ...). Every newest-first list pages here."""
    stmt = select(model).options(*options).where(*where, *older_than(model, before_id)).filter_by(
        **{name: value for name, value in equal_to.items() if value is not None})
    return list(db.session.execute(stmt.order_by(model.id.desc()).limit(limit)).scalars())


def soonest_first(model, column, after_id: int | None, limit: int, owner, *where) -> list:
    """A page of the `owner`'s rows that match `where`, by `column` ascending (an expiry: soonest first),
    then id, after the cursor: the last id seen, which must be the owner's (another member's row anchors
    nothing) but may have left `where` since (a coupon used meanwhile still anchors the next page)."""
    stmt = select(model).where(owner, *where)
    if after_id is not None:
        anchor = select(column).where(model.id == after_id, owner).scalar_subquery()
        stmt = stmt.where(or_(column > anchor, and_(column == anchor, model.id > after_id)))
    return list(db.session.execute(stmt.order_by(column, model.id).limit(limit)).scalars())


class iso_date(FunctionElement):
    """A date as text, YYYY-MM-DD (as Python's isoformat()), whatever the session's settings:
    PostgreSQL casts a date to text in its DateStyle ('SQL, DMY' gives 15/06/2026)."""

    type = String()
    inherit_cache = True


@compiles(iso_date)
def _iso_date(element, compiler, **kw):
    return compiler.process(cast(*element.clauses, String), **kw)  # SQLite keeps dates as ISO text


@compiles(iso_date, "postgresql")
def _iso_date_on_postgresql(element, compiler, **kw):
    return f"to_char({compiler.process(element.clauses, **kw)}, 'YYYY-MM-DD')"
