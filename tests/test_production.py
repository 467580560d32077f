"""Production (MEMBERMALL_ENV=production) starts only with a secret key of its own, loads no
demo data, and gets its first operator from `flask create-operator` with a password
nobody else knows."""
import pytest
from sqlalchemy import func, select

from app import create_app
from app.config import DEVELOPMENT_SECRET_KEY, ConfigError, load_config
from app.extensions import db
from app.member_row import Tier
from app.operators.models import Operator
from tests.helpers import Caller

PRODUCTION = {"MEMBERMALL_ENV": "production", "DATABASE_URL": "postgresql+psycopg://db/membermall",
              "REDIS_URL": "redis://redis:6379/0", "WECHAT_APPID": "wx-appid", "WECHAT_SECRET": "wx-secret"}
GOOD_KEY = "k" * 32


def test_production_starts_with_a_secret_key_of_32_bytes_or_more():
    assert load_config({**PRODUCTION, "SECRET_KEY": GOOD_KEY})["SECRET_KEY"] == GOOD_KEY
    assert load_config({**PRODUCTION, "SECRET_KEY": "密" * 11})["PRODUCTION"]  # 33 bytes in UTF-8


@pytest.mark.parametrize(("key", "why"), [
    ("k" * 31, "at least 32 bytes"),
    ("密" * 10, "at least 32 bytes"),  # 10 characters, 30 bytes
    (DEVELOPMENT_SECRET_KEY, "published development default"),
])
def test_production_refuses_a_short_or_published_secret_key(key, why):
    with pytest.raises(ConfigError, match=why):
        load_config({**PRODUCTION, "SECRET_KEY": key})


def test_the_app_itself_refuses_to_start_with_the_development_key(monkeypatch):
    for name, value in {**PRODUCTION, "SECRET_KEY": DEVELOPMENT_SECRET_KEY}.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match="published development default"):
        create_app()


def test_development_keeps_its_default_key():
    assert load_config({})["SECRET_KEY"] == DEVELOPMENT_SECRET_KEY


def count(app, model) -> int:
    with app.app_context():
        return db.session.execute(select(func.count()).select_from(model)).scalar_one()


def test_demo_data_is_refused_in_production(app, monkeypatch):
    monkeypatch.setitem(app.config, "PRODUCTION", True)
    result = app.test_cli_runner().invoke(args=["demo-data"])
    assert result.exit_code == 1
    assert "refused in production" in result.output
    assert (count(app, Tier), count(app, Operator)) == (0, 0)


def logs_in(app, username: str, password: str) -> bool:
    reply = Caller(app).post("/api/v1/auth/admin/login", json={"username": username, "password": password})
    return reply.status_code == 200


def test_create_operator_asks_for_the_password_hidden_and_twice(app):
    typed = "ops.li\n李运营\nfirst-try-12\nmistyped-12\nsecret-pass-1\nsecret-pass-1\n"
    result = app.test_cli_runner().invoke(args=["create-operator"], input=typed)
    assert result.exit_code == 0, result.output
    assert "do not match" in result.output  # asked again until both entries agree
    assert "secret-pass-1" not in result.output and "first-try-12" not in result.output  # never echoed
    assert "operator ops.li created" in result.output
    assert logs_in(app, "ops.li", "secret-pass-1")


def test_create_operator_takes_the_environment_without_asking(app):
    env = {"OPERATOR_USERNAME": "ops.wang", "OPERATOR_NAME": "王运营", "OPERATOR_PASSWORD": "from-the-env-1"}
    result = app.test_cli_runner().invoke(args=["create-operator"], env=env, input="")
    assert result.exit_code == 0, result.output
    assert logs_in(app, "ops.wang", "from-the-env-1")


@pytest.mark.parametrize(("env", "why"), [
    ({"OPERATOR_USERNAME": "ops.zhao", "OPERATOR_NAME": "赵", "OPERATOR_PASSWORD": "short"}, "password"),
    ({"OPERATOR_USERNAME": "has space", "OPERATOR_NAME": "赵", "OPERATOR_PASSWORD": "long-enough-1"}, "username"),
])
def test_create_operator_refuses_what_the_api_refuses(app, env, why):
    result = app.test_cli_runner().invoke(args=["create-operator"], env=env, input="")
    assert result.exit_code == 1 and why in result.output, result.output
    assert count(app, Operator) == 0


def test_create_operator_refuses_a_taken_username(app):
    env = {"OPERATOR_USERNAME": "ops.li", "OPERATOR_NAME": "李", "OPERATOR_PASSWORD": "long-enough-1"}
    assert app.test_cli_runner().invoke(args=["create-operator"], env=env).exit_code == 0
    again = app.test_cli_runner().invoke(args=["create-operator"], env={**env, "OPERATOR_PASSWORD": "another-one-2"})
    assert again.exit_code == 1 and "用户名已存在" in again.output
    assert logs_in(app, "ops.li", "long-enough-1") and not logs_in(app, "ops.li", "another-one-2")
