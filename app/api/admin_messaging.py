"""Operators: message rules, the message log, and the runs of scheduled jobs."""
from flask import g

from app.api.blueprint import Blueprint
from app.api.idempotency import mutation
from app.api.messaging_schemas import (
    JobRunArgs,
    JobRunPageSchema,
    MessageLogArgs,
    MessagePageSchema,
    MessageRuleSchema,
)
from app.api.pagination import page, page_schema, whole
from app.api.principals import require
from app.messaging import rules
from app.messaging.service import messages_page
from app.security import ADMIN
from app.tasks.runs import runs_page

blp = Blueprint("admin_messaging", __name__, url_prefix="/api/v1/admin",
                description="Subscribe-message rules and log, scheduled job runs (admin token)")
blp.before_request(require(ADMIN))


@blp.route("/message-rules")
@blp.response(200, page_schema(MessageRuleSchema))
def list_rules():
    """One rule per event kind, by kind (one page)."""
    return whole(rules.all_rules())


@blp.route("/message-rules/<kind>", methods=["PUT"])
@mutation
@blp.arguments(MessageRuleSchema)
@blp.response(200, MessageRuleSchema)
def put_rule(args, kind):
    """Set the template, data fields and page an event kind sends. Events already dispatched keep theirs."""
    return rules.save_rule(kind, actor=g.scope, **args)


@blp.route("/messages")
@blp.arguments(MessageLogArgs, location="query")
@blp.response(200, MessagePageSchema)
def list_messages(args):
    """Every subscribe message, newest first: status (sent / skipped / failed …), code, attempts, times."""
    items = messages_page(args.get("status"), args.get("member_id"), args.get("cursor"), args["limit"] + 1)
    return page(items, args["limit"])


@blp.route("/job-runs")
@blp.arguments(JobRunArgs, location="query")
@blp.response(200, JobRunPageSchema)
def list_job_runs(args):
    """Runs of the scheduled jobs, newest first, with their business day and counts."""
    return page(runs_page(args.get("job"), args.get("cursor"), args["limit"] + 1), args["limit"])
