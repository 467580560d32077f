"""The operators' console at /console/: server-rendered pages in Chinese over the same services
as the admin API. HTTP only, like app/api: nothing below imports it. See README.md here."""
from flask import request

from app.api.console import session
from app.api.console.pages import PREFIX
from app.field_messages import in_chinese

# Every page is same-origin only: no inline script or style, no frame, no form posted elsewhere.
CONTENT_SECURITY_POLICY = ("default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; "
                           "frame-ancestors 'none'; form-action 'self'")


def init_app(app) -> None:
    from app.api.console import (
        accounts,
        audit_log,
        campaigns,
        config,
        config_messages,
        config_stores,
        config_tasks,
        home,
        jobs,
        layers,
        login,
        mall,
        mall_categories,
        mall_coupons,
        mall_orders,
        members,
        segments,
        tiers,
    )

    session.configure(app)
    app.add_template_filter(in_chinese, "chinese")  # field messages as the API words them (app/field_messages.py)
    for module in (login, home, tiers, audit_log, accounts, members, layers, segments, campaigns, jobs,
                   config, config_tasks, config_messages, config_stores, mall, mall_categories, mall_coupons,
                   mall_orders):
        app.register_blueprint(module.blp)

    @app.after_request
    def _console_headers(response):
        if request.path == PREFIX or request.path.startswith(f"{PREFIX}/"):
            response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
            response.headers["X-Frame-Options"] = "DENY"
            response.headers["Referrer-Policy"] = "same-origin"
            response.headers.setdefault("Cache-Control", "no-store")  # pages hold personal data (assets: no-cache)
        return response
