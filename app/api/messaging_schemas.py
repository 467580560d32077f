"""Schemas of the subscribe-message endpoints: quota reports, rules, the message log, job runs."""
from marshmallow import Schema, fields, validate

from app.api.schemas import CursorArgs, Strict, one_of
from app.messaging.demo import DEMO_RULES
from app.messaging.models import FAILED, PENDING, RETRYING, SENDING, SENT, SKIPPED, TEMPLATE_ID_LENGTH, UNCONFIRMED
from app.messaging.subscriptions import RESULTS

_template_id = validate.Length(min=1, max=TEMPLATE_ID_LENGTH)
# examples name the demo's template (`make run`), so that they work when pasted into /docs
EXAMPLE_TEMPLATE = DEMO_RULES["points_expiring"][0]
MESSAGE_STATUSES = (PENDING, SENDING, RETRYING, SENT, SKIPPED, FAILED, UNCONFIRMED)


class SubscriptionReportArgs(Strict):
    results = fields.Dict(
        keys=fields.String(validate=_template_id), values=fields.String(validate=validate.OneOf(RESULTS)),
        required=True, validate=validate.Length(min=1, max=10),
        metadata={"description": "wx.requestSubscribeMessage's result: {template id: accept | reject | ban | "
                                 "filter | acceptWithAudio | acceptWithAlert}",
                  "example": {EXAMPLE_TEMPLATE: "accept"}})


class SubscriptionSchema(Schema):
    template_id = fields.String()
    event_kinds = fields.List(fields.String(), metadata={"description": "the events this template tells of"})
    long_term = fields.Boolean()
    remaining = fields.Integer(metadata={"description": "one-time: sends left; long-term: > 0 when subscribed"})


class MessageRuleSchema(Strict):
    event_kind = fields.String(dump_only=True)
    template_id = fields.String(required=True, validate=_template_id, metadata={"example": EXAMPLE_TEMPLATE})
    page = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=200))
    # named "fields" in JSON and on the model (the attribute name would hide marshmallow's module)
    template_fields = fields.Dict(
        data_key="fields", attribute="fields",
        keys=fields.String(validate=validate.Regexp(r"^[a-z_]+\d+$", error="a template key such as thing1 or date2")),
        values=fields.String(validate=validate.Length(max=200)), required=True, validate=validate.Length(min=1, max=20),
        metadata={"description": "template key → text with {payload} placeholders; values are fitted to "
                                 "WeChat's rule of the key's type (thing ≤ 20 characters, phrase ≤ 5, …)",
                  "example": {"thing1": "{points} 积分将于 {expires_on} 过期", "date2": "{expires_on}"}})
    enabled = fields.Boolean(load_default=True)
    updated_by = fields.String(dump_only=True, allow_none=True)
    updated_at = fields.DateTime(dump_only=True)


class MessageLogArgs(CursorArgs):
    status = fields.String(validate=validate.OneOf(MESSAGE_STATUSES))
    member_id = fields.Integer(validate=validate.Range(min=1, max=2**31 - 1))  # members.id is an INTEGER


class MessageSchema(Schema):
    id = fields.Integer()
    event_id = fields.Integer()
    member_id = fields.Integer()
    kind = fields.String()
    template_id = fields.String()
    page = fields.String(allow_none=True)
    data = fields.Dict()
    status = one_of(MESSAGE_STATUSES)
    error_code = fields.String(allow_none=True, metadata={
        "description": "WeChat's errcode (43101, 47003, …) or NO_QUOTA, OUTCOME_UNKNOWN, a transport failure"})
    error_message = fields.String(allow_none=True)
    attempts = fields.Integer()
    created_at = fields.DateTime()
    claimed_at = fields.DateTime(allow_none=True)
    finished_at = fields.DateTime(allow_none=True)


class MessagePageSchema(Schema):
    items = fields.List(fields.Nested(MessageSchema))
    next_cursor = fields.Integer(allow_none=True)


class JobRunArgs(CursorArgs):
    job = fields.String(validate=validate.Length(min=1, max=60))


class JobRunSchema(Schema):
    id = fields.Integer()
    job = fields.String()
    business_date = fields.Date()
    status = fields.String(metadata={"description": "queued, running, ok or failed"})
    counts = fields.Dict()
    error = fields.String(allow_none=True)
    started_at = fields.DateTime()
    finished_at = fields.DateTime(allow_none=True)
    started_by = fields.String(allow_none=True, metadata={
        "description": "the operator who ran it now (`admin:<id>`); null: the schedule ran it"})


class JobRunPageSchema(Schema):
    items = fields.List(fields.Nested(JobRunSchema))
    next_cursor = fields.Integer(allow_none=True)
