"""The migrations are the schema's source of truth: they build exactly what the models
declare, and they go down to nothing and up again on both databases."""
import json
import uuid

import psycopg
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask import Flask
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, text
from sqlalchemy.engine import make_url

from app import MIGRATIONS_DIR, models  # noqa: F401  (models: db.metadata holds every table)
from app.database import configure_engine
from app.extensions import db, migrate


def schema_drift(engine) -> list:
    """What autogenerate would write to bring the database to the models (empty: they agree)."""
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(context, db.metadata)


def table_names(engine) -> set[str]:
    return set(inspect(engine).get_table_names())


def test_the_migrated_test_database_matches_the_models(app):
    """conftest built the test database with `upgrade heads`; nothing differs from db.metadata."""
    with app.app_context():
        assert schema_drift(db.engine) == []


def migrations_app(database_url: str) -> Flask:
    """Only what Alembic needs (database and migrations), so the suite's app and its
    extensions (rate-limit storage, API spec) stay as they are."""
    scratch = Flask(__name__)
    scratch.config["SQLALCHEMY_DATABASE_URI"] = database_url
    db.init_app(scratch)
    migrate.init_app(scratch, db, directory=str(MIGRATIONS_DIR), render_as_batch=True, compare_type=True)
    with scratch.app_context():
        configure_engine(db.engine)
    return scratch


@pytest.fixture
def scratch_urls(app, tmp_path):
    """An empty SQLite file, and an empty PostgreSQL database when the suite runs on one
    (created here beside the test database, dropped afterwards)."""
    urls = [f"sqlite:///{tmp_path / 'scratch.db'}"]
    test_url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    if test_url.get_backend_name() != "postgresql":
        yield urls
        return
    name = f"{test_url.database}_scratch_{uuid.uuid4().hex[:8]}"
    admin = test_url.set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield [*urls, test_url.set(database=name).render_as_string(hide_password=False)]
    finally:
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_migrations_downgrade_to_base_and_upgrade_again(scratch_urls):
    """On an empty database: up to heads builds the models' schema, down to base removes
    every table, and up again rebuilds it identically."""
    tables = {table.name for table in db.metadata.sorted_tables}
    for url in scratch_urls:
        scratch = migrations_app(url)
        with scratch.app_context():
            try:
                upgrade(revision="heads")
                assert table_names(db.engine) == tables | {"alembic_version"}, url
                assert schema_drift(db.engine) == [], url

                downgrade(revision="base")
                assert table_names(db.engine) <= {"alembic_version"}, url

                upgrade(revision="heads")
                assert schema_drift(db.engine) == [], url
            finally:
                db.engine.dispose()  # release its connections so the scratch database can be dropped


def test_0019_moves_the_orders_addresses_to_the_wx_shape_and_json_null_to_sql_null(scratch_urls):
    """Orders written before 0019: {"name", "phone", "address"} becomes the new shape with the old line
    as its detail, JSON 'null' (what a non-physical order held) becomes NULL, on SQLite too (where
    copying mall_items would be refused once orders refer to it); down again (PostgreSQL: SQLite's
    downgrade copies the table), one line."""
    old = {"name": "张三", "phone": "13800138000", "address": "上海市静安区南京西路1号"}
    rows = "INSERT INTO {} VALUES {}"
    for url in scratch_urls:
        scratch = migrations_app(url)
        with scratch.app_context():
            try:
                upgrade(revision="0018_merge")
                with db.engine.begin() as connection:
                    for statement, values in (
                        ("tiers (id, level, name, growth_threshold, points_multiplier_pct, benefits)",
                         "(1, 0, '普通', 0, 100, '{}')"),
                        ("members (id, openid, card_no, gender, tier_id, tier_since, growth, points_balance, "
                         "code_secret, created_at)", "(1, 'o', '7001', 'unknown', 1, '2026-01-01', 0, 0, 's', "
                         "'2026-01-01')"),
                        ("mall_items (id, name, description, kind, price_points, limit_period, member_day_only, "
                         "active, created_at)", "(1, '杯', '', 'physical', 1, 'total', false, true, '2026-01-01')"),
                    ):
                        connection.execute(text(rows.format(statement, values)))
                    connection.execute(text(
                        "INSERT INTO mall_orders (id, member_id, item_id, points, state, ship_to, created_at) "
                        "VALUES (1, 1, 1, 1, 'shipped', :old, '2026-01-01'), (2, 1, 1, 1, 'completed', 'null', "
                        "'2026-01-01')"), {"old": json.dumps(old)})
                upgrade(revision="heads")
                assert _ship_to(db.engine) == {1: {**{key: old[key] for key in ("name", "phone")}, "province": "",
                                                   "city": "", "district": "", "detail": old["address"],
                                                   "postcode": None}, 2: None}, url
                if db.engine.dialect.name == "postgresql":
                    downgrade(revision="0018_merge")
                    assert _ship_to(db.engine) == {1: old, 2: None}, url
            finally:
                db.engine.dispose()


def _ship_to(engine) -> dict:
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT id, CAST(ship_to AS TEXT) FROM mall_orders ORDER BY id")).all()
    return {order_id: value and json.loads(value) for order_id, value in rows}
