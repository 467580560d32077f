"""Operators: message rules, the message log, and the runs of scheduled jobs."""
from flask import g

from app.api.blueprint import Blueprint
from app.api.idempotency import mutation
from app.api.messaging_schemas import (
    EventKindSchema,
    JobRunArgs,
    JobRunPageSchema,
    MessageLogArgs,
    MessagePageSchema,
    MessageRuleSchema,
    RulePreviewArgs,
    RulePreviewSchema,
    kind_parameter,
)
from app.api.pagination import page, page_schema, whole
from app.api.principals import require
from app.errors import MessagingError
from app.messaging import rules
from app.messaging.kinds import EventKind
from app.messaging.service import messages_page
from app.security import ADMIN
from app.tasks.runs import runs_page

blp = Blueprint("admin_messaging", __name__, url_prefix="/api/v1/admin",
                description="Subscribe-message rules and log, scheduled job runs (admin token)")
blp.before_request(require(ADMIN))


@blp.route("/event-kinds")
@blp.response(200, page_schema(EventKindSchema))
def list_event_kinds():
    """Every outbox event kind a rule may send: its label and the placeholders its payload fills."""
    return whole({"kind": kind.value, "label": kind.label, "fields": kind.fields, "sample": kind.sample}
                 for kind in EventKind)


@blp.route("/message-rules")
@blp.response(200, page_schema(MessageRuleSchema))
def list_rules():
    """One rule per event kind, by kind (one page)."""
    return whole(rules.all_rules())


@blp.route("/message-rules/<kind>", methods=["PUT"], parameters=kind_parameter())
@blp.errors(MessagingError.MESSAGE_RULE_NOT_FOUND)
@mutation
@blp.arguments(MessageRuleSchema)
@blp.response(200, MessageRuleSchema)
def put_rule(args, kind):
    """Set the template, data fields and page an event kind sends. Events already dispatched keep theirs.
    A {placeholder} that is not a field of the kind's payload is refused (422)."""
    return rules.save_rule(kind, actor=g.scope, **args)


@blp.route("/message-rules/<kind>/preview", methods=["POST"], parameters=kind_parameter())
@blp.errors(MessagingError.MESSAGE_RULE_NOT_FOUND)
@blp.arguments(RulePreviewArgs)
@blp.response(200, RulePreviewSchema)
def preview_rule(args, kind):
    """The message a sample event of this kind would send, under the rule given or the stored one:
    its data rendered and cut to WeChat's limits exactly as the dispatcher does. Writes nothing."""
    rule = args.get("rule")
    return rules.preview(kind, rule and {"template_id": rule["template_id"], "fields": rule["fields"],
                                         "page": rule["page"]}, args.get("payload"))


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
