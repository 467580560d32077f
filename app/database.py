"""Engine settings per database."""
import select

from sqlalchemy import event, exc


def configure_engine(engine) -> None:
    if engine.dialect.name == "sqlite":
        _sqlite_immediate_transactions(engine)
    elif engine.dialect.name == "postgresql":
        _replace_connections_the_server_closed(engine)


def _replace_connections_the_server_closed(engine) -> None:
    """Check a pooled connection as it is taken, without a round trip to the server.

    An idle connection has nothing to read. When the server ends one (a restart, an idle
    timeout, pg_terminate_backend) it sends its goodbye and closes: the socket turns
    readable. Such a connection is replaced before use, at the cost of one poll() instead
    of the `SELECT 1` per request that pool_pre_ping would send. (A link that dies without
    a word is not seen here; the request that meets it fails and the pool starts afresh.)
    """

    @event.listens_for(engine, "checkout")
    def _checkout(dbapi_connection, _record, _proxy):
        if dbapi_connection.closed or select.select([dbapi_connection.pgconn.socket], [], [], 0)[0]:
            raise exc.DisconnectionError("the server closed this connection")  # the pool takes a new one


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
        # WAL's own advice: a commit survives the process crashing and the file never corrupts;
        # only a power cut can take the last commits. FULL (an fsync per commit) cost ~10 ms each.
        dbapi_connection.execute("PRAGMA synchronous = NORMAL")

    @event.listens_for(engine, "begin")
    def _begin(connection):
        connection.exec_driver_sql("BEGIN IMMEDIATE")
