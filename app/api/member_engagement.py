"""The mini-program's check-in calendar, invitations and tasks (member token)."""
import io
from datetime import date

from flask import g, send_file

from app.api.blueprint import Blueprint
from app.api.engagement_schemas import (
    CalendarArgs,
    CalendarSchema,
    CheckedInSchema,
    InvitationCardSchema,
    InvitationPageSchema,
    MakeupArgs,
    MemberTaskSchema,
    TaskClaimSchema,
)
from app.api.idempotency import mutation
from app.api.pagination import page, page_schema, whole
from app.api.principals import require
from app.api.schemas import CursorArgs
from app.clock import today
from app.engagement import checkin, referral, tasks
from app.errors import EngagementError, PointsError, WechatError
from app.security import MEMBER

blp = Blueprint("member_engagement", __name__, url_prefix="/api/v1/member",
                description="Check-in, invitations and tasks (member token)")
blp.before_request(require(MEMBER))


@blp.route("/checkins/calendar")
@blp.arguments(CalendarArgs, location="query")
@blp.response(200, CalendarSchema)
def calendar(args):
    """A month of check-ins (this month by default): each day's state, the streak, the next reward."""
    month = date.fromisoformat(f"{args['month']}-01") if "month" in args else today()
    return checkin.calendar(g.principal, month)


@blp.route("/checkins", methods=["POST"])
@blp.errors(EngagementError.CHECKIN_ALREADY_DONE)
@mutation
@blp.response(201, CheckedInSchema)
def check_in():
    """Check in today (business day). A second check-in the same day is 409 CHECKIN_ALREADY_DONE."""
    return checkin.check_in(g.principal.id)


@blp.route("/checkins/makeups", methods=["POST"])
@blp.errors(PointsError.POINTS_INSUFFICIENT, EngagementError.CHECKIN_ALREADY_DONE, EngagementError.MAKEUP_FUTURE_DAY,
            EngagementError.MAKEUP_BEFORE_JOINING, EngagementError.MAKEUP_BEYOND_WINDOW,
            EngagementError.MAKEUP_QUOTA_EXCEEDED, EngagementError.MAKEUP_NO_CARD)
@mutation
@blp.arguments(MakeupArgs)
@blp.response(201, CheckedInSchema)
def make_up(args):
    """Make up a missed day, paying with points or a makeup card; joins runs and pays streak rewards due."""
    return checkin.make_up(g.principal.id, args["day"], args["pay_with"])


@blp.route("/invitation")
@blp.response(200, InvitationCardSchema)
def invitation():
    """The member's invite code, the scene and page of their mini-program code, the rewards."""
    return referral.invitation_card(g.principal)


@blp.route("/invitation/code.png")
@blp.errors(WechatError.WECHAT_UNAVAILABLE, WechatError.WECHAT_ERROR)
@blp.response(200, description="The member's mini-program code (wxacode getUnlimited), PNG", content_type="image/png")
def invitation_code_png():
    response = send_file(io.BytesIO(referral.invite_qr_png(g.principal)), mimetype="image/png")
    response.headers["Cache-Control"] = "private, max-age=86400"
    return response


@blp.route("/invitations")
@blp.arguments(CursorArgs, location="query")
@blp.response(200, InvitationPageSchema)
def invitations(args):
    """The members this member invited, newest first, each with its state (and why, if refused)."""
    items = referral.invitations_page(g.principal.id, args.get("cursor"), args["limit"] + 1)
    return page(items, args["limit"])


@blp.route("/tasks")
@blp.response(200, page_schema(MemberTaskSchema))
def member_tasks():
    """The live tasks, with this member's progress in each one's current period (what operators run now: one page)."""
    return whole(tasks.member_tasks(g.principal.id))


@blp.route("/tasks/<int:task_id>/claims", methods=["POST"])
@blp.errors(EngagementError.TASK_NOT_FOUND, EngagementError.TASK_NOT_ACTIVE, EngagementError.TASK_NOT_COMPLETED,
            EngagementError.TASK_ALREADY_CLAIMED)
@mutation
@blp.response(201, TaskClaimSchema)
def claim_task(task_id):
    """Claim a completed task's reward for the current period, once."""
    return tasks.claim(g.principal.id, task_id)
