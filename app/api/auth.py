"""Logins for the three audiences; each returns a token that names its audience."""
from flask import current_app

from app.accounts import authenticate
from app.api.blueprint import Blueprint
from app.api.idempotency import transaction
from app.api.limits import failed_logins, login_rate
from app.api.schemas import MemberLoginArgs, PasswordLoginArgs, TokenReply
from app.errors import AuthError, EngagementError, WechatError
from app.members import service as members
from app.operators.models import Operator
from app.security import ADMIN, MEMBER, STAFF, issue_token
from app.stores.models import Staff

blp = Blueprint("auth", __name__, url_prefix="/api/v1/auth", description="Logins (no token needed)")


def _token_reply(audience: str, account, **extra) -> dict:
    config = current_app.config
    return {
        "token": issue_token(config["SECRET_KEY"], audience, account.id, account.token_version),
        "audience": audience,
        "expires_in": config[f"{audience.upper()}_TOKEN_TTL"],
        **extra,
    }


@blp.route("/member/login", methods=["POST"])
@blp.errors(WechatError.WECHAT_CODE_INVALID, WechatError.WECHAT_UNAVAILABLE, WechatError.WECHAT_ERROR,
            EngagementError.INVITE_CODE_INVALID)
@blp.doc(security=[])  # a login needs no token
@login_rate
@transaction  # not @mutation: a login ignores an Idempotency-Key, its token is not to be stored
@blp.arguments(MemberLoginArgs)
@blp.response(200, TokenReply)
def member_login(args):
    """Exchange a `wx.login` code; the first login creates the member (bound to `invite_code`'s inviter)."""
    member, created = members.login(args["code"], args.get("invite_code"))
    return _token_reply(MEMBER, member, member_id=member.id, created=created)


@blp.route("/staff/login", methods=["POST"])
@blp.errors(AuthError.AUTH_BAD_CREDENTIALS)
@blp.doc(security=[])  # a login needs no token
@login_rate
@blp.arguments(PasswordLoginArgs)
@blp.response(200, TokenReply)
def staff_login(args):
    with failed_logins(f"{STAFF}:{args['username']}"):
        staff = authenticate(Staff, args["username"], args["password"])
    return _token_reply(STAFF, staff)


@blp.route("/admin/login", methods=["POST"])
@blp.errors(AuthError.AUTH_BAD_CREDENTIALS)
@blp.doc(security=[])  # a login needs no token
@login_rate
@blp.arguments(PasswordLoginArgs)
@blp.response(200, TokenReply)
def admin_login(args):
    with failed_logins(f"{ADMIN}:{args['username']}"):
        operator = authenticate(Operator, args["username"], args["password"])
    return _token_reply(ADMIN, operator)
