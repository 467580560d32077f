"""Schemas of the accounts: password changes and resets, staff and operators for operators."""
from marshmallow import Schema, fields, validate

from app.accounts import PASSWORD_LENGTH
from app.api.schemas import IntegerIdCursorArgs, StaffArgs, StaffSchema, Strict
from app.operators.roles import ROLES


def _new_password():
    return fields.String(required=True, load_only=True, validate=validate.Length(*PASSWORD_LENGTH))


class PasswordChangeArgs(Strict):
    current_password = fields.String(required=True, load_only=True, validate=validate.Length(min=1, max=128))
    new_password = _new_password()


class PasswordResetArgs(Strict):
    password = _new_password()


class StaffListArgs(IntegerIdCursorArgs):
    store_id = fields.Integer(validate=validate.Range(min=1, max=2**31 - 1),
                              metadata={"description": "only this store's staff"})


class StaffPageSchema(Schema):
    items = fields.List(fields.Nested(StaffSchema))
    next_cursor = fields.Integer(allow_none=True)


def _operator_role(**kwargs):
    return fields.String(validate=validate.OneOf(ROLES), **kwargs,
                         metadata={"description": "admin: everything and the operator accounts; "
                                                  "operator: reads and writes; analyst: reads only"})


class OperatorArgs(StaffArgs):
    """A staff account's username, password and name, and the operator's role (no default:
    whoever adds an account says what it may do)."""

    role = _operator_role(required=True)


class OperatorRoleArgs(Strict):
    role = _operator_role(required=True)


class OperatorSchema(Schema):
    id = fields.Integer()
    username = fields.String()
    name = fields.String()
    role = _operator_role()
    active = fields.Boolean(metadata={"description": "false: disabled, cannot log in, its tokens ended"})


class OperatorPageSchema(Schema):
    items = fields.List(fields.Nested(OperatorSchema))
    next_cursor = fields.Integer(allow_none=True)
