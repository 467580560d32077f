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
    """Every test starts with empty tables and an empty Redis database."""
    redis_lib.Redis.from_url(REDIS_URL).flushdb()
    with app.app_context():
        tables = [table.name for table in reversed(db.metadata.sorted_tables)]
        if db.engine.dialect.name == "postgresql":
            db.session.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                db.session.execute(text(f"DELETE FROM {table}"))
        db.session.commit()
    app.extensions["wechat"] = None  # a fresh client: no token cached from another test
    with app.app_context():
        forget_enabled_tasks()  # the emptied tables took the tasks with them


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
