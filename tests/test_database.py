"""Connections to the database: what the pool hands out is alive."""
import time

import psycopg
import pytest
from sqlalchemy.engine import make_url

from app.extensions import db


def test_requests_after_the_server_ended_every_pooled_connection_are_served(app, world, is_postgres):
    """A restart, an idle timeout or an administrator ends connections that sit in the
    pool. The next requests get fresh ones instead of failing on the dead ones."""
    if not is_postgres:
        pytest.skip("no server to end connections: SQLite opens a file, and app/database.py checks only PostgreSQL's")
    alice = world.member("alice")
    assert alice.get("/api/v1/member/card").status_code == 200
    with app.app_context():
        pooled = db.engine.pool.checkedin()
    assert pooled > 0

    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"]).set(drivername="postgresql")
    others = "FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
    with psycopg.connect(url.render_as_string(hide_password=False), autocommit=True) as admin:
        ended = admin.execute(f"SELECT count(pg_terminate_backend(pid)) {others}").fetchone()[0]
        deadline = time.monotonic() + 10  # the call only signals them: wait until they are gone
        while admin.execute(f"SELECT count(*) {others}").fetchone()[0] and time.monotonic() < deadline:
            time.sleep(0.05)
    assert ended >= pooled

    card_reads, check_ins = [], []
    for _ in range(pooled + 1):  # every dead connection in the pool is met, and replaced
        card_reads.append(alice.get("/api/v1/member/card").status_code)
        check_ins.append(alice.post("/api/v1/member/checkins").status_code)
    assert card_reads == [200] * (pooled + 1)
    assert check_ins == [201] + [409] * pooled  # written once, then today's check-in is done
