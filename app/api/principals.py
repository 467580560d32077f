"""Who is calling: bearer tokens that name their audience (member, staff, admin)."""
from datetime import timedelta

from flask import current_app, g, request
from sqlalchemy import bindparam, select

from app.clock import now
from app.engagement import referral
from app.errors import AppError
from app.extensions import db
from app.members.models import Member
from app.operators.models import Operator
from app.security import ADMIN, MEMBER, STAFF, read_token
from app.stores.models import Staff

_MODELS = {MEMBER: Member, STAFF: Staff, ADMIN: Operator}
# Built once: building a statement costs more than running it, and every request runs one.
_LOAD = {audience: select(model).where(model.id == bindparam("id")) for audience, model in _MODELS.items()}
_READS = {"GET", "HEAD", "OPTIONS"}
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
        if audience == MEMBER and request.method not in _READS:
            # A member's writes start by holding the member's row, as every writer of a
            # member takes it first anyway: loaded once, locked once, for the whole request
            # (with the inviter's first while a referral the write may qualify is pending).
            principal = referral.lock_invitee(claims["sub"])
        else:
            principal = db.session.execute(_LOAD[audience], {"id": claims["sub"]}).scalar_one_or_none()
        if principal is None or not getattr(principal, "active", True):
            raise AppError("AUTH_INVALID")
        g.principal = principal
        g.scope = f"{audience}:{principal.id}"

    return authenticate
