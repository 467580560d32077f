"""Schemas of the audit log."""
from marshmallow import Schema, fields, validate

from app.api.converters import INTEGER_MAX
from app.api.schemas import BUSINESS_DATE, CursorArgs, ZonedDateTime


class AuditLogArgs(CursorArgs):
    operator_id = fields.Integer(validate=validate.Range(min=1, max=INTEGER_MAX), metadata={"description": "who"})
    action = fields.String(validate=validate.Length(min=1, max=128),
                           metadata={"description": "the endpoint, e.g. admin.create_tier or console_accounts.create"})
    target_type = fields.String(validate=validate.Length(min=1, max=64),
                                metadata={"description": "e.g. tier, member, operators"})
    target_id = fields.String(validate=validate.Length(min=1, max=64))
    from_day = fields.Date(data_key="from", validate=BUSINESS_DATE, metadata={"description": "business day, included"})
    to_day = fields.Date(data_key="to", validate=BUSINESS_DATE, metadata={"description": "business day, included"})


class AuditEntrySchema(Schema):
    id = fields.Integer()
    at = ZonedDateTime()
    operator_id = fields.Integer()
    operator_name = fields.String(metadata={"description": "as it was at the time"})
    action = fields.String()
    method = fields.String()
    path = fields.String()
    target_type = fields.String(allow_none=True)
    target_id = fields.String(allow_none=True)
    arguments = fields.Dict(metadata={"description": "the request's query and body (or form); secrets as ***"})
    changes = fields.List(fields.Dict(), metadata={
        "description": "the first rows changed: {table, id, op, before, after} with the changed columns only"})
    changes_count = fields.Integer(metadata={"description": "every row changed (changes keeps the first 50)"})


class AuditPageSchema(Schema):
    items = fields.List(fields.Nested(AuditEntrySchema))
    next_cursor = fields.Integer(allow_none=True)
