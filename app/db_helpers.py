"""Small database idioms the services share."""
from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from app.extensions import db


def lock(model, id_):
    """Load one row and hold its lock until commit (SQLite: transactions are IMMEDIATE)."""
    stmt = (
        select(model)
        .where(model.id == id_)
        .with_for_update(of=model)
        .execution_options(populate_existing=True)
    )
    return db.session.execute(stmt).scalar_one_or_none()


def insert_ignoring_conflict(model, values: dict, conflict_columns: list[str]) -> bool:
    """INSERT … ON CONFLICT DO NOTHING; True if this call inserted the row.

    A concurrent twin waits on the unique index and then inserts nothing, instead of
    failing the whole transaction with an IntegrityError.
    """
    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = insert(model).values(**values).on_conflict_do_nothing(index_elements=conflict_columns)
    return db.session.execute(stmt).rowcount == 1
