"""HTTP only: blueprints per audience, the OpenAPI document, health and request ids."""
import uuid

from flask import g, request
from sqlalchemy import text

from app.api.schemas import ErrorEnvelopeSchema
from app.errors import CATALOGUE
from app.extensions import api, db

API_DESCRIPTION = """Member card, points ledger and store staff API of membermall.

Authenticate with `Authorization: Bearer <token>` from one of the `/api/v1/auth/*/login`
endpoints; a token opens only its own audience (member, staff or admin).
Every state-changing POST accepts an `Idempotency-Key` header (≤ 128 characters).

Every error answers `{"error": {"code", "message", "details"}}` with one of these codes:

| code | HTTP status | message |
|---|---|---|
""" + "\n".join(f"| `{code}` | {status} | {message} |" for code, (status, message) in CATALOGUE.items())


def register_api(app) -> None:
    from app.api import admin, auth, member, staff

    app.config["API_SPEC_OPTIONS"] = {
        "info": {"description": API_DESCRIPTION},
        "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
        "security": [{"bearer": []}],
        "x-error-codes": {code: {"status": status, "message": message}
                          for code, (status, message) in CATALOGUE.items()},
    }
    api.ERROR_SCHEMA = ErrorEnvelopeSchema  # documents our envelope on every error response
    api.init_app(app)
    for module in (auth, member, staff, admin):
        api.register_blueprint(module.blp)

    @app.before_request
    def _request_id():
        g.request_id = request.headers.get("X-Request-Id", "")[:64] or uuid.uuid4().hex

    @app.after_request
    def _echo_request_id(response):
        response.headers["X-Request-Id"] = g.get("request_id", "")
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
