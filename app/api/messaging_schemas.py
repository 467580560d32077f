"""Schemas of the subscribe-message endpoints: quota reports, rules, the message log, job runs."""
from marshmallow import INCLUDE, Schema, ValidationError, fields, post_load, validate, validates_schema

from app.api.schemas import CursorArgs, Strict, ZonedDateTime, one_of
from app.messaging.demo import DEMO_RULES
from app.messaging.kinds import EventKind
from app.messaging.models import FAILED, PENDING, RETRYING, SENDING, SENT, SKIPPED, TEMPLATE_ID_LENGTH, UNCONFIRMED
from app.messaging.subscriptions import RESULTS, TEMPLATES_PER_REQUEST, RequestPage

_template_id = validate.Length(min=1, max=TEMPLATE_ID_LENGTH)
# examples name the demo's template (`make run`), so that they work when pasted into /docs
EXAMPLE_TEMPLATE = DEMO_RULES["points_expiring"][0]
MESSAGE_STATUSES = (PENDING, SENDING, RETRYING, SENT, SKIPPED, FAILED, UNCONFIRMED)
_event_kind = validate.OneOf([kind.value for kind in EventKind])  # documented as the enum of every kind field


def kind_parameter() -> list[dict]:
    """The `{kind}` path parameter of a rule's routes, documented as the enum of kinds."""
    return [{"in": "path", "name": "kind", "description": "the event kind (GET /api/v1/admin/event-kinds)",
             "schema": {"type": "string", "enum": [kind.value for kind in EventKind]}}]


SUBSCRIBE_OK = "requestSubscribeMessage:ok"


class SubscribeResultArgs(Schema):
    """wx.requestSubscribeMessage's success result as it comes: `errMsg` and one key per template id
    asked for, its value accept | reject | ban | filter (or WeChat's acceptWithAudio | acceptWithAlert)."""

    class Meta:
        unknown = INCLUDE  # the template ids are the keys
        # documented (app/api/docs.py) as strings, not an enum: a typed client (TypeScript) would hold
        # errMsg's own value to the enum too, and could not type the object wx gives
        additional_properties = {"type": "string", "description": f"a template id's result: {' | '.join(RESULTS)}"}
        example = {"errMsg": SUBSCRIBE_OK, EXAMPLE_TEMPLATE: "accept"}

    errMsg = fields.String(required=True, validate=validate.Equal(  # noqa: N815 (WeChat's name)
        SUBSCRIBE_OK, error="调用失败（{input}）：未订阅任何消息"), metadata={"example": SUBSCRIBE_OK})

    @staticmethod
    def _results(data: dict) -> dict:
        return {key: value for key, value in data.items() if key != "errMsg"}

    @validates_schema(skip_on_field_errors=False)  # a bad key is named beside a missing errMsg
    def _each_template(self, data, **kwargs):
        results = self._results(data)
        if not 1 <= len(results) <= TEMPLATES_PER_REQUEST:
            raise ValidationError(f"一次须有 1 到 {TEMPLATES_PER_REQUEST} 个模板编号，与一次订阅请求相同")
        errors = {key: [f"须为以下之一：{', '.join(RESULTS)}"] for key, value in results.items()
                  if value not in RESULTS}
        errors |= {key: [f"模板编号最多 {TEMPLATE_ID_LENGTH} 个字符"] for key in results
                   if len(key) > TEMPLATE_ID_LENGTH}
        if errors:
            raise ValidationError(errors)

    @post_load
    def _as_results(self, data, **kwargs) -> dict:
        return {"results": self._results(data)}


class SubscriptionSchema(Schema):
    template_id = fields.String()
    event_kinds = fields.List(fields.String(validate=_event_kind),
                              metadata={"description": "the events this template tells of"})
    long_term = fields.Boolean()
    remaining = fields.Integer(metadata={"description": "one-time: sends left; long-term: > 0 when subscribed"})


class RequestPageSchema(Schema):
    page = one_of([page.value for page in RequestPage], metadata={"description": "where the mini-program asks"})
    label = fields.String(metadata={"example": "签到"})
    template_ids = fields.List(fields.String(), metadata={
        "description": "pass as `tmplIds` to wx.requestSubscribeMessage on a tap there (at most three, all "
                       "one-time or all long-term); empty: this page asks for nothing"})
    event_kinds = fields.List(fields.String(validate=_event_kind), metadata={"description": "what they tell of"})


class EventKindSchema(Schema):
    kind = fields.String(validate=_event_kind)
    label = fields.String(metadata={"description": "its name for operators"})
    placeholders = fields.List(fields.String(), attribute="fields",
                               metadata={"description": "the payload fields a rule may use as {name}"})
    sample = fields.Dict(metadata={"description": "a sample payload, what a preview renders"})


class MessageRuleSchema(Strict):
    event_kind = fields.String(dump_only=True, validate=_event_kind)
    template_id = fields.String(required=True, validate=_template_id, metadata={"example": EXAMPLE_TEMPLATE})
    page = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=200))
    # named "fields" in JSON and on the model (the attribute name would hide marshmallow's module)
    template_fields = fields.Dict(
        data_key="fields", attribute="fields",
        keys=fields.String(validate=validate.Regexp(r"^[a-z_]+\d+$", error="须为模板字段名，如 thing1 或 date2")),
        values=fields.String(validate=validate.Length(max=200)), required=True, validate=validate.Length(min=1, max=20),
        metadata={"description": "template key → text with {placeholders}, fields of the kind's payload (GET "
                                 "/api/v1/admin/event-kinds); values are fitted to WeChat's rule of the key's type "
                                 "(thing ≤ 20 characters, phrase ≤ 5, …)",
                  "example": {"thing1": "{points} 积分将于 {expires_on} 过期", "date2": "{expires_on}"}})
    enabled = fields.Boolean(load_default=True)
    updated_by = fields.String(dump_only=True, allow_none=True)
    updated_at = ZonedDateTime(dump_only=True)


class RulePreviewArgs(Strict):
    rule = fields.Nested(MessageRuleSchema, metadata={"description": "the rule to preview; absent: the stored one"})
    payload = fields.Dict(
        keys=fields.String(validate=validate.Length(min=1, max=40)),
        values=fields.String(validate=validate.Length(max=200)),
        validate=validate.Length(max=20),
        metadata={"description": "values over the kind's sample payload", "example": {"points": "800"}})


class RulePreviewSchema(Schema):
    """What WeChat would receive: `data` rendered and fitted exactly as the dispatcher does."""

    event_kind = fields.String(validate=_event_kind)
    label = fields.String()
    template_id = fields.String()
    page = fields.String(allow_none=True)
    payload = fields.Dict(metadata={"description": "the sample event's payload"})
    data = fields.Dict(metadata={"description": "{template key: {\"value\": text}}, as subscribeMessage.send takes it"})


class MessageLogArgs(CursorArgs):
    status = fields.String(validate=validate.OneOf(MESSAGE_STATUSES))
    member_id = fields.Integer(validate=validate.Range(min=1, max=2**31 - 1))  # members.id is an INTEGER


class MessageSchema(Schema):
    id = fields.Integer()
    event_id = fields.Integer()
    member_id = fields.Integer()
    kind = fields.String(validate=_event_kind)
    template_id = fields.String()
    page = fields.String(allow_none=True)
    data = fields.Dict()
    status = one_of(MESSAGE_STATUSES)
    error_code = fields.String(allow_none=True, metadata={
        "description": "WeChat's errcode (43101, 47003, …) or NO_QUOTA, OUTCOME_UNKNOWN, a transport failure"})
    error_message = fields.String(allow_none=True)
    attempts = fields.Integer()
    created_at = ZonedDateTime()
    claimed_at = ZonedDateTime(allow_none=True)
    finished_at = ZonedDateTime(allow_none=True)


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
    started_at = ZonedDateTime()
    finished_at = ZonedDateTime(allow_none=True)
    started_by = fields.String(allow_none=True, metadata={
        "description": "the operator who ran it now (`admin:<id>`); null: the schedule ran it"})


class JobRunPageSchema(Schema):
    items = fields.List(fields.Nested(JobRunSchema))
    next_cursor = fields.Integer(allow_none=True)
