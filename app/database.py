"""Engine settings per database."""
from sqlalchemy import event


def configure_engine(engine) -> None:
    if engine.dialect.name == "sqlite":
        _sqlite_immediate_transactions(engine)


def _sqlite_immediate_transactions(engine) -> None:
    """Make every SQLite transaction BEGIN IMMEDIATE and wait for the write lock.

    SQLite has no row locks: a deferred transaction that read first and writes later
    fails (or would act on a stale read) when another writer got in between. Taking the
    database's write lock at BEGIN serializes writers, which gives the embedded default
    the same guarantees the row locks give on PostgreSQL. See SQLAlchemy's "Serializable
    isolation / Savepoints / Transactional DDL" recipe for pysqlite.
    """

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None  # let SQLAlchemy, not pysqlite, emit BEGIN
        dbapi_connection.execute("PRAGMA busy_timeout = 30000")
        dbapi_connection.execute("PRAGMA foreign_keys = ON")
        dbapi_connection.execute("PRAGMA journal_mode = WAL")

    @event.listens_for(engine, "begin")
    def _begin(connection):
        connection.exec_driver_sql("BEGIN IMMEDIATE")
