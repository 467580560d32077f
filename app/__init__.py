"""membermall: the member card, points and mall backend for a WeChat mini-program."""
from pathlib import Path

from flask import Flask

from app.config import load_config

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


def create_app(overrides: dict | None = None) -> Flask:
    app = Flask(__name__)
    app.config.update(load_config())
    app.config.update(overrides or {})
    app.json.sort_keys = False
    app.json.ensure_ascii = False  # Chinese names and messages as text, not \u escapes

    from app import models  # noqa: F401  (registers every table)
    from app.api import limits, register_api
    from app.api.console import init_app as init_console
    from app.cli import register_cli
    from app.database import configure_engine
    from app.errors import register_error_handlers
    from app.events import init_app as init_events
    from app.extensions import db, migrate
    from app.subscribers import SUBSCRIBERS
    from app.tasks import init_app as init_tasks
    from app.wechat import init_app as init_wechat

    db.init_app(app)
    migrate.init_app(app, db, directory=str(MIGRATIONS_DIR), render_as_batch=True, compare_type=True)
    limits.init_app(app)
    if app.config["TRUSTED_PROXY_COUNT"]:  # the client address (rate limits) from X-Forwarded-For
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=app.config["TRUSTED_PROXY_COUNT"])
    if app.config["REDIS_URL"]:
        import redis

        app.extensions["redis"] = redis.Redis.from_url(app.config["REDIS_URL"])
    init_wechat(app)
    with app.app_context():
        configure_engine(db.engine)
    register_api(app)
    init_console(app)
    register_error_handlers(app)
    register_cli(app)
    init_tasks(app)
    init_events(app, SUBSCRIBERS)
    return app
