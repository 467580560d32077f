"""Operators: check-in and referral rules, tasks, and their numbers (admin token)."""
from flask import g

from app.api.blueprint import Blueprint
from app.api.engagement_schemas import (
    CheckinDayNumbersSchema,
    CheckinRulesSchema,
    DateRangeArgs,
    ReferralNumbersSchema,
    ReferralRulesSchema,
    TaskNumbersSchema,
    TaskPatchSchema,
    TaskSchema,
)
from app.api.idempotency import mutation
from app.api.pagination import page, page_schema, whole
from app.api.principals import require
from app.api.schemas import IntegerIdCursorArgs
from app.engagement import settings, stats, tasks
from app.errors import EngagementError
from app.security import ADMIN

blp = Blueprint("admin_engagement", __name__, url_prefix="/api/v1/admin",
                description="Check-in, referral and task configuration and numbers (admin token)")
blp.before_request(require(ADMIN))


@blp.route("/checkin-rules")
@blp.response(200, CheckinRulesSchema)
def get_checkin_rules():
    return settings.load(settings.CheckinRules)


@blp.route("/checkin-rules", methods=["PUT"])
@mutation
@blp.arguments(CheckinRulesSchema)
@blp.response(200, CheckinRulesSchema)
def put_checkin_rules(rules):
    """Replace the check-in rewards, streak milestones, cycle and makeup rules."""
    return settings.save(rules, actor=g.scope)


@blp.route("/referral-rules")
@blp.response(200, ReferralRulesSchema)
def get_referral_rules():
    return settings.load(settings.ReferralRules)


@blp.route("/referral-rules", methods=["PUT"])
@mutation
@blp.arguments(ReferralRulesSchema)
@blp.response(200, ReferralRulesSchema)
def put_referral_rules(rules):
    """Replace the referral rewards, qualifying action, caps and reversal window."""
    return settings.save(rules, actor=g.scope)


@blp.route("/tasks")
@blp.arguments(IntegerIdCursorArgs, location="query")
@blp.response(200, page_schema(TaskSchema))
def list_tasks(args):
    """The tasks, newest first."""
    return page(tasks.tasks_page(args.get("cursor"), args["limit"] + 1), args["limit"])


@blp.route("/tasks", methods=["POST"])
@mutation
@blp.arguments(TaskSchema)
@blp.response(201, TaskSchema)
def create_task(args):
    return tasks.create_task(**args)


@blp.route("/tasks/<int:task_id>")
@blp.errors(EngagementError.TASK_NOT_FOUND)
@blp.response(200, TaskSchema)
def get_task(task_id):
    return tasks.get_task(task_id)


@blp.route("/tasks/<int:task_id>", methods=["PATCH"])
@blp.errors(EngagementError.TASK_NOT_FOUND)
@mutation
@blp.arguments(TaskPatchSchema)
@blp.response(200, TaskSchema)
def update_task(args, task_id):
    """Change a task; kind and recurrence stay as created."""
    return tasks.update_task(task_id, **args)


@blp.route("/tasks/<int:task_id>", methods=["DELETE"])
@blp.errors(EngagementError.TASK_NOT_FOUND, EngagementError.TASK_IN_USE)
@mutation
@blp.response(204)
def delete_task(task_id):
    """Delete a task nobody has started (409 TASK_IN_USE otherwise: disable it or end it instead)."""
    tasks.delete_task(task_id)


@blp.route("/tasks/numbers")
@blp.arguments(IntegerIdCursorArgs, location="query")
@blp.response(200, page_schema(TaskNumbersSchema))
def task_numbers(args):
    """Per task, newest first: members who started it, completions, rewards paid."""
    listed = page(tasks.tasks_page(args.get("cursor"), args["limit"] + 1), args["limit"])
    return {**listed, "items": tasks.task_numbers(listed["items"])}


@blp.route("/checkins/numbers")
@blp.arguments(DateRangeArgs, location="query")
@blp.response(200, page_schema(CheckinDayNumbersSchema))
def checkin_numbers(args):
    """Per business day of the range (at most its days: one page): check-ins, makeups, members,
    check-in rate, points paid."""
    return whole(stats.checkin_numbers(*stats.date_range(args.get("from_"), args.get("to"))))


@blp.route("/referrals/numbers")
@blp.arguments(DateRangeArgs, location="query")
@blp.response(200, ReferralNumbersSchema)
def referral_numbers(args):
    """Invitations bound by state and refusal reason, rewards paid, top inviters."""
    return stats.referral_numbers(*stats.date_range(args.get("from_"), args.get("to")))
