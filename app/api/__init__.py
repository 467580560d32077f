"""HTTP only: blueprints per audience, the OpenAPI document, health and request ids."""
import uuid

from flask import g, request
from sqlalchemy import text

from app.api.converters import IdConverter
from app.api.docs import SchemaMetaPlugin, configure_docs, dict_length
from app.api.input_guard import check_request_input
from app.api.schemas import ErrorEnvelopeSchema
from app.clock import begin_business_day, end_business_day
from app.errors import CATALOGUE
from app.extensions import api, db

API_PREFIX = "/api/"
API_DESCRIPTION = """Member card, points ledger and store staff API of membermall.

Authenticate with `Authorization: Bearer <token>` from one of the `/api/v1/auth/*/login`
endpoints; a token opens only its own audience (member, staff or admin).
Every operation that changes state takes an `Idempotency-Key` header, listed among its parameters
with its format and what a replay answers; logins and the POSTs that only read (previews, lookups) do not.

Every error answers `{"error": {"code", "message", "details"}}` with one of these codes (each
operation lists those it can answer in `x-error-codes`); `details.fields` names the refused
fields with messages in Chinese, `details.fields_en` the same in English:

| code | HTTP status | message |
|---|---|---|
""" + "\n".join(f"| `{code}` | {status} | {message} |" for code, (status, message) in CATALOGUE.items())


def register_api(app) -> None:
    from app.api import (
        admin,
        admin_audit,
        admin_benefits,
        admin_campaigns,
        admin_engagement,
        admin_jobs,
        admin_layers,
        admin_mall,
        admin_members,
        admin_messaging,
        admin_numbers,
        auth,
        member,
        member_benefits,
        member_engagement,
        member_history,
        member_mall,
        member_messaging,
        member_points_conversion,
        member_stores,
        sessions,
        staff,
        staff_mall,
    )

    app.config["API_SPEC_OPTIONS"] = {
        "info": {"description": API_DESCRIPTION},
        "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
        "security": [{"bearer": []}],
        "x-error-codes": {code: {"status": status, "message": message}
                          for code, (status, message) in CATALOGUE.items()},
    }
    api.ERROR_SCHEMA = ErrorEnvelopeSchema  # documents our envelope on every error response
    app.url_map.converters["int"] = IdConverter  # before any route: an id past its column's range is a 404
    configure_docs(app)
    api.init_app(app, spec_kwargs={"extra_plugins": [SchemaMetaPlugin()]})
    api.ma_plugin.converter.add_attribute_function(dict_length)
    with app.app_context():  # the document renders bounds such as a time's minimum in the business zone
        for module in (auth, member, staff, admin, admin_members, admin_jobs, member_engagement, admin_engagement,
                       member_mall, staff_mall, admin_mall, member_messaging, admin_messaging, member_benefits,
                       admin_benefits, member_points_conversion, admin_audit, admin_layers, admin_campaigns,
                       admin_numbers, member_history, member_stores):
            api.register_blueprint(module.blp)
        for blp in sessions.blueprints:
            api.register_blueprint(blp)

    @app.before_request
    def _business_day():
        """Each request reads its business day once, as it starts (app/clock.py)."""
        g.business_day = begin_business_day()

    @app.teardown_request
    def _end_business_day(_error):
        end_business_day(g.pop("business_day", None))

    @app.before_request
    def _request_id():
        g.request_id = request.headers.get("X-Request-Id", "")[:64] or uuid.uuid4().hex

    app.before_request(check_request_input)

    @app.after_request
    def _echo_request_id(response):
        response.headers["X-Request-Id"] = g.get("request_id", "")
        return response

    @app.after_request
    def _security_headers(response):
        """No browser guesses a type from content; no cache keeps an API reply (they carry
        tokens and personal data) unless its view chose a policy (the invitation image: private)."""
        response.headers["X-Content-Type-Options"] = "nosniff"
        if request.path.startswith(API_PREFIX) and "Cache-Control" not in response.headers:
            response.headers["Cache-Control"] = "no-store"
        return response

    @app.after_request
    def _commit_reads(response):
        """End a read (GET, HEAD) that succeeded with COMMIT rather than the teardown's ROLLBACK.

        Same effect on data (reads write nothing; writes are POSTs under @mutation), but
        psycopg drops its prepared statements on every rollback, which made PostgreSQL parse
        and plan every statement of every request afresh (bench/card_read measured it).
        """
        if request.method in ("GET", "HEAD") and response.status_code < 400:
            db.session.commit()
        return response

    @app.get("/healthz")
    def healthz():
        return {"status": "ok"}

    @app.get("/readyz")
    def readyz():
        """Ready when the database (and Redis, if configured) answer."""
        try:
            db.session.execute(text("SELECT 1"))
            redis = app.extensions.get("redis")
            if redis is not None:
                redis.ping()
        except Exception as error:  # any failure of a dependency means "not ready"
            app.logger.warning("not ready: %s", error)
            return {"status": "unavailable"}, 503
        return {"status": "ready"}
