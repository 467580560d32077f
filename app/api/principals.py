"""Who is calling: bearer tokens that name their audience (member, staff, admin)."""
from datetime import timedelta

from flask import current_app, g, request

from app.clock import now
from app.errors import AppError
from app.extensions import db
from app.members.models import Member
from app.operators.models import Operator
from app.security import ADMIN, MEMBER, STAFF, read_token
from app.stores.models import Staff

_MODELS = {MEMBER: Member, STAFF: Staff, ADMIN: Operator}
_TTL_SETTING = {MEMBER: "MEMBER_TOKEN_TTL", STAFF: "STAFF_TOKEN_TTL", ADMIN: "ADMIN_TOKEN_TTL"}


def require(audience: str):
    """A before_request hook: every endpoint of the blueprint needs this audience's token."""

    def authenticate():
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise AppError("AUTH_REQUIRED")
        read = read_token(current_app.config["SECRET_KEY"], token.strip())
        if read is None:
            raise AppError("AUTH_INVALID")
        claims, issued_at = read
        if claims["aud"] != audience:
            raise AppError("AUDIENCE_FORBIDDEN")
        if issued_at + timedelta(seconds=current_app.config[_TTL_SETTING[audience]]) < now():
            raise AppError("AUTH_INVALID")
        principal = db.session.get(_MODELS[audience], claims["sub"])
        if principal is None or not getattr(principal, "active", True):
            raise AppError("AUTH_INVALID")
        g.principal = principal
        g.scope = f"{audience}:{principal.id}"

    return authenticate
