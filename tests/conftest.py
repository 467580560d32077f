"""The suite runs against a real database (SQLite by default, PostgreSQL when
DATABASE_URL names one), a real Redis and the fake WeChat over real HTTP."""
import os

import pytest
import redis as redis_lib
from flask_migrate import upgrade
from sqlalchemy import text

from app import create_app
from app.engagement.tasks import forget_enabled_tasks
from app.extensions import db
from tests.helpers import REDIS_URL

pytest_plugins = ["tests.wechat_fixtures", "tests.browser", "tests.error_replies"]


@pytest.fixture(scope="session")
def app(tmp_path_factory, fake_wechat_server):
    database_url = os.environ.get("DATABASE_URL") or f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
    app = create_app({
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": 20, "max_overflow": 20},
        "REDIS_URL": REDIS_URL,
        "RATELIMIT_STORAGE_URI": REDIS_URL,
        "WECHAT_API_BASE": fake_wechat_server.base_url,
        "SECRET_KEY": "test-secret",
        # Tests commit and dispatch in quick succession; test_outbox proves the interval.
        "OUTBOX_NUDGE_INTERVAL": 0,
    })
    with app.app_context():
        upgrade(revision="heads")  # the schema comes from the migrations, as in production
    return app


@pytest.fixture(autouse=True)
def clean_state(app):
    """Every test starts with empty tables, ids from 1 and an empty Redis database."""
    redis_lib.Redis.from_url(REDIS_URL).flushdb()
    with app.app_context():
        empty_tables()
    app.extensions["wechat"] = None  # a fresh client: no token cached from another test
    with app.app_context():
        forget_enabled_tasks()  # the emptied tables took the tasks with them


BULK_ROWS = 1000  # from here on a table is TRUNCATEd: a DELETE checks each row's foreign keys


def empty_tables() -> None:
    """Empties the tables a test wrote, children first. A TRUNCATE of all ~50 tables cost
    PostgreSQL 0.15 s per test (a new file per table) where most tests write a handful of rows;
    a DELETE of 200,000 ledger entries, though, took minutes of foreign-key checks."""
    tables = [table.name for table in reversed(db.metadata.sorted_tables)]
    counted = [f"SELECT '{table}', (SELECT count(*) FROM (SELECT 1 FROM {table} LIMIT {BULK_ROWS}) AS r)"
               for table in tables]
    written = {table: rows for table, rows in db.session.execute(text(" UNION ALL ".join(counted))) if rows}
    postgres = db.engine.dialect.name == "postgresql"
    if postgres and max(written.values(), default=0) == BULK_ROWS:
        db.session.execute(text(f"TRUNCATE {', '.join(written)} CASCADE"))
    else:
        for table in tables:
            if table in written:
                db.session.execute(text(f"DELETE FROM {table}"))
    if postgres:  # ids from 1 again (SQLite numbers from the largest id left: none)
        db.session.execute(text("SELECT setval(oid, 1, false) FROM pg_class WHERE relkind = 'S'"))
    db.session.commit()


@pytest.fixture
def ctx(app):
    """An app context for calling services directly; the test commits what it needs."""
    with app.app_context():
        yield
        db.session.rollback()


@pytest.fixture
def is_postgres(app):
    with app.app_context():
        return db.engine.dialect.name == "postgresql"


@pytest.fixture
def world(app):
    from tests.helpers import build_world

    return build_world(app)


@pytest.fixture
def spare_redis():
    """A Redis server of this test's own, killed at the end (the test may kill it sooner)."""
    from tests.redis_server import RedisServer

    server = RedisServer().start()
    yield server
    server.kill()
