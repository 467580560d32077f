"""Who is calling: bearer tokens that name their audience (member, staff, admin)."""
from flask import current_app, g, request
from sqlalchemy import bindparam, select

from app.audit import service as audit
from app.clock import now
from app.engagement import referral
from app.errors import AppError, AuthError
from app.extensions import db
from app.member_row import Member
from app.operators import roles
from app.operators.models import Operator
from app.security import ADMIN, MEMBER, STAFF, read_token, token_in_date
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
            raise AppError(AuthError.AUTH_REQUIRED)
        read = read_token(current_app.config["SECRET_KEY"], token.strip())
        if read is None:
            raise AppError(AuthError.AUTH_INVALID)
        claims, issued_at = read
        if claims["aud"] != audience:
            raise AppError(AuthError.AUDIENCE_FORBIDDEN)
        if not token_in_date(issued_at, current_app.config[_TTL_SETTING[audience]], now()):
            raise AppError(AuthError.AUTH_INVALID)
        g.scope = f"{audience}:{claims['sub']}"
        if audience == MEMBER and request.method not in _READS:
            # A member's write holds the member's row for the whole request, as every writer
            # of a member takes it first anyway: loaded once, locked once, but only after the
            # Idempotency-Key is claimed (hold_principal), so that a twin of a request in
            # flight is refused at once instead of waiting for this lock.
            g.member_to_hold = (claims["sub"], claims["ver"])
            return
        principal = db.session.execute(_LOAD[audience], {"id": claims["sub"]}).scalar_one_or_none()
        g.principal = _checked(principal, claims["ver"])
        if audience == ADMIN:
            # the one rule of roles, for every admin blueprint (each has this hook)
            if not roles.permitted(g.principal.role, request.method, current_app.view_functions.get(request.endpoint)):
                raise AppError(AuthError.ROLE_FORBIDDEN)
            if request.method not in _READS:  # every operator write lands in the audit log
                audit.begin(g.principal, request.endpoint, request.method, request.path, request.view_args or {},
                            {"query": request.args.to_dict(), "body": request.get_json(silent=True)},
                            g.get("request_id", ""))

    authenticate.audience = audience  # the document lists the auth codes (app/api/error_docs.py)
    return authenticate


def hold_principal() -> None:
    """Lock and load the member of a member's write request (see authenticate), once, right
    after its Idempotency-Key is claimed (app/api/idempotency.py begin_writes)."""
    held = g.pop("member_to_hold", None)
    if held is not None:
        member_id, version = held
        g.principal = _checked(referral.lock_invitee(member_id), version)


def check_principal() -> None:
    """Refuse a member's write whose member is gone, without taking the lock: for a view that
    calls WeChat before it writes (hold_principal loads the member again, locked)."""
    if "member_to_hold" in g:
        member_id, version = g.member_to_hold
        _checked(db.session.get(Member, member_id), version)


def _checked(principal, token_version: int):
    # a logout, a password change or disabling the account bumped its version: older tokens end
    if principal is None or not getattr(principal, "active", True) or principal.token_version != token_version:
        raise AppError(AuthError.AUTH_INVALID)
    return principal
