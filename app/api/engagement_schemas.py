"""Schemas of the check-in, referral and task endpoints."""
import re

from marshmallow import Schema, ValidationError, fields, post_load, validate, validates_schema

from app.api.schemas import BUSINESS_DATE, MAX_POINTS, Strict, ZonedDateTime, one_of
from app.engagement.models import PENDING, RECURRENCES, REFUSED, REVERSED, REWARDED, TASK_KINDS
from app.engagement.settings import FIRST_PURCHASE, PHONE_BOUND, CheckinRules, ReferralRules
from app.engagement.tasks import page_path_of

_points = validate.Range(min=0, max=MAX_POINTS)


def _count(maximum: int, **kwargs):
    return fields.Integer(strict=True, validate=validate.Range(min=0, max=maximum), **kwargs)


# --- rules -----------------------------------------------------------------------------


class MilestoneSchema(Strict):
    day = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=3660))
    points = fields.Integer(required=True, strict=True, validate=_points)
    growth = fields.Integer(load_default=0, strict=True, validate=_points)


class CheckinRulesSchema(Strict):
    """The whole check-in configuration: a PUT replaces it."""

    daily_points = fields.Integer(required=True, strict=True, validate=_points)
    daily_growth = fields.Integer(required=True, strict=True, validate=_points)
    streak_rewards = fields.List(fields.Nested(MilestoneSchema), required=True, validate=validate.Length(max=30))
    cycle_days = fields.Integer(required=True, allow_none=True, strict=True, validate=validate.Range(min=2, max=366),
                                metadata={"description": "null: runs keep counting; N: day N+1 starts a new cycle"})
    makeup_window_days = _count(31, required=True)
    makeup_cost_points = fields.Integer(required=True, strict=True, validate=_points)
    makeup_monthly_quota = _count(31, required=True)

    @validates_schema
    def milestones_reachable(self, data, **kwargs):
        days = [milestone["day"] for milestone in data.get("streak_rewards", [])]
        if len(days) != len(set(days)):
            raise ValidationError("每个连续签到天数只能出现一次", "streak_rewards")
        cycle = data.get("cycle_days")
        if cycle is not None and any(day > cycle for day in days):
            raise ValidationError("连续签到天数不能超过签到周期", "streak_rewards")

    @post_load
    def to_rules(self, data, **kwargs) -> CheckinRules:
        return CheckinRules.from_dict(data)


class ReferralRewardSchema(Strict):
    points = fields.Integer(required=True, strict=True, validate=_points)
    growth = fields.Integer(required=True, strict=True, validate=_points)


class ReferralRulesSchema(Strict):
    """The whole referral configuration: a PUT replaces it."""

    qualify_on = fields.String(required=True, validate=validate.OneOf([PHONE_BOUND, FIRST_PURCHASE]))
    inviter = fields.Nested(ReferralRewardSchema, required=True)
    invitee = fields.Nested(ReferralRewardSchema, required=True)
    daily_cap = _count(10_000, required=True, allow_none=True, metadata={"description": "null: no cap"})
    monthly_cap = _count(100_000, required=True, allow_none=True, metadata={"description": "null: no cap"})
    reversal_window_days = _count(365, required=True)

    @post_load
    def to_rules(self, data, **kwargs) -> ReferralRules:
        return ReferralRules.from_dict(data)


# --- check-in --------------------------------------------------------------------------


class CalendarArgs(Strict):
    month = fields.String(validate=[validate.Length(equal=7), validate.Regexp(r"^(19|20)\d{2}-(0[1-9]|1[0-2])$")],
                          metadata={"description": "YYYY-MM (1900–2099); this month by default"})


class CalendarDaySchema(Schema):
    day = fields.Date()
    state = one_of(["checked", "made_up", "missed", "today", "future", "before_joining"])
    can_make_up = fields.Boolean()


class TodaySchema(Schema):
    day = fields.Date()
    checked = fields.Boolean()


class NextRewardSchema(Schema):
    streak_day = fields.Integer()
    milestone = fields.Integer()
    days_to_go = fields.Integer()
    points = fields.Integer()
    growth = fields.Integer()


class MakeupStatusSchema(Schema):
    window_days = fields.Integer()
    cost_points = fields.Integer()
    monthly_quota = fields.Integer()
    used_this_month = fields.Integer()
    cards = fields.Integer()


class CalendarSchema(Schema):
    month = fields.String()
    today = fields.Nested(TodaySchema)
    days = fields.List(fields.Nested(CalendarDaySchema))
    streak = fields.Integer()
    next_reward = fields.Nested(NextRewardSchema, allow_none=True)
    makeup = fields.Nested(MakeupStatusSchema)


class MakeupArgs(Strict):
    day = fields.Date(required=True)
    pay_with = fields.String(load_default="points", validate=validate.OneOf(["points", "card"]))


class StreakRewardSchema(Schema):
    streak_day = fields.Integer(attribute="position")
    milestone = fields.Integer()
    points = fields.Integer()
    growth = fields.Integer()


class CheckedInSchema(Schema):
    day = fields.Date(attribute="checkin.day")
    kind = fields.String(attribute="checkin.kind")
    points = fields.Integer(attribute="checkin.points")
    growth = fields.Integer(attribute="checkin.growth")
    paid_with = fields.String(attribute="checkin.paid_with", allow_none=True)
    streak = fields.Integer()
    streak_rewards = fields.List(fields.Nested(StreakRewardSchema))


# --- referral --------------------------------------------------------------------------


class InvitationCountsSchema(Schema):
    pending = fields.Integer()
    rewarded = fields.Integer()
    refused = fields.Integer()
    reversed = fields.Integer()


class InvitationCardSchema(Schema):
    code = fields.String()
    scene = fields.String()
    page = fields.String()
    qualify_on = fields.String()
    inviter_reward = fields.Nested(ReferralRewardSchema)
    invitee_reward = fields.Nested(ReferralRewardSchema)
    counts = fields.Nested(InvitationCountsSchema)


class InvitationSchema(Schema):
    id = fields.Integer()
    invitee_nickname = fields.String(attribute="invitee.nickname", allow_none=True)
    state = one_of([PENDING, REWARDED, REFUSED, REVERSED])
    reason = fields.String(allow_none=True, metadata={
        "description": "refused: self_invitation, phone_reused, daily_cap, monthly_cap"})
    points = fields.Integer(attribute="inviter_points")
    growth = fields.Integer(attribute="inviter_growth")
    rewarded_on = fields.Date(allow_none=True)
    created_at = ZonedDateTime()


class InvitationPageSchema(Schema):
    items = fields.List(fields.Nested(InvitationSchema))
    next_cursor = fields.Integer(allow_none=True)


# --- tasks -----------------------------------------------------------------------------

# A page of the mini-program as app.json names it (pages/checkin/index, a subpackage's
# packageA/pages/x/index), with a query if the page reads one; a leading / is dropped.
PAGE_PATH_LENGTH = 128
_PAGE_PATH = re.compile(r"[A-Za-z0-9_\-]+(/[A-Za-z0-9_\-]+)+(\?[A-Za-z0-9_\-.~%=&]*)?")


def _page_path(text) -> str:
    if not isinstance(text, str) or len(text) > PAGE_PATH_LENGTH or not _PAGE_PATH.fullmatch(text.removeprefix("/")):
        raise ValidationError(f"须为小程序页面路径，如 pages/checkin/index（最多 {PAGE_PATH_LENGTH} 个字符）")
    return text.removeprefix("/")


class TaskSchema(Strict):
    id = fields.Integer(dump_only=True)
    title = fields.String(required=True, validate=validate.Length(min=1, max=64))
    description = fields.String(allow_none=True, load_default=None, validate=validate.Length(max=200))
    kind = fields.String(required=True, validate=validate.OneOf(TASK_KINDS))
    target = fields.Integer(load_default=1, strict=True, validate=validate.Range(min=1, max=10_000))
    recurrence = fields.String(load_default="once", validate=validate.OneOf(RECURRENCES))
    reward_points = fields.Integer(load_default=0, strict=True, validate=_points)
    reward_growth = fields.Integer(load_default=0, strict=True, validate=_points)
    reward_makeup_cards = _count(10, load_default=0)
    auto_pay = fields.Boolean(load_default=False)
    enabled = fields.Boolean(load_default=True)
    starts_at = ZonedDateTime(allow_none=True, load_default=None)
    ends_at = ZonedDateTime(allow_none=True, load_default=None)
    sort_order = fields.Integer(load_default=0, strict=True, validate=validate.Range(min=-10_000, max=10_000))
    page_path = fields.Function(page_path_of, _page_path, allow_none=True, metadata={
        "type": "string", "maxLength": PAGE_PATH_LENGTH, "example": "pages/checkin/index",
        "description": "where the member does it; null or left out: the kind's default page"})
    created_at = ZonedDateTime(dump_only=True)
    # the rules across fields (once-only kinds, a reward, the window) are app/engagement/tasks.py's


class TaskPatchSchema(TaskSchema):
    """Every field optional; kind and recurrence are fixed once members make progress."""

    class Meta:
        exclude = ("kind", "recurrence")

    def __init__(self, **kwargs):
        super().__init__(partial=True, **kwargs)


class TaskRewardSchema(Schema):
    points = fields.Integer()
    growth = fields.Integer()
    makeup_cards = fields.Integer()


class MemberTaskSchema(Schema):
    id = fields.Integer()
    title = fields.String()
    description = fields.String(allow_none=True)
    kind = one_of(TASK_KINDS)
    target = fields.Integer()
    recurrence = one_of(RECURRENCES)
    period = fields.String()
    progress = fields.Integer()
    state = one_of(["in_progress", "claimable", "claimed"])
    auto_pay = fields.Boolean()
    reward = fields.Nested(TaskRewardSchema)
    ends_at = ZonedDateTime(allow_none=True)
    page_path = fields.String(metadata={"description": "the mini-program page where the member does it",
                                        "example": "pages/checkin/index"})
    period_ends_at = ZonedDateTime(allow_none=True, metadata={
        "description": "when the current period ends (and an unclaimed reward lapses); null for once-only tasks"})


class TaskClaimSchema(Schema):
    id = fields.Integer()
    task_id = fields.Integer()
    period = fields.String()
    points = fields.Integer()
    growth = fields.Integer()
    makeup_cards = fields.Integer()
    created_at = ZonedDateTime()


class TaskNumbersSchema(Schema):
    task_id = fields.Integer()
    title = fields.String()
    kind = one_of(TASK_KINDS)
    recurrence = one_of(RECURRENCES)
    started = fields.Integer()
    completed = fields.Integer()
    rewarded = fields.Integer()
    points_paid = fields.Integer()
    growth_paid = fields.Integer()
    makeup_cards_paid = fields.Integer()


# --- numbers ---------------------------------------------------------------------------


class DateRangeArgs(Strict):
    from_ = fields.Date(data_key="from", validate=BUSINESS_DATE,
                        metadata={"description": "first business day; 6 days before `to` by default"})
    to = fields.Date(validate=BUSINESS_DATE, metadata={"description": "last business day; today by default"})


class CheckinDayNumbersSchema(Schema):
    day = fields.Date()
    checkins = fields.Integer()
    makeups = fields.Integer()
    members = fields.Integer()
    checkin_rate = fields.Float()
    points_paid = fields.Integer()


class TopInviterSchema(Schema):
    member_id = fields.Integer()
    rewarded = fields.Integer()


class ReferralNumbersSchema(Schema):
    bound = fields.Integer()
    by_state = fields.Dict(keys=fields.String(), values=fields.Integer())
    refused_by_reason = fields.Dict(keys=fields.String(), values=fields.Integer())
    rewarded = fields.Integer()
    points_paid = fields.Integer()
    top_inviters = fields.List(fields.Nested(TopInviterSchema))
