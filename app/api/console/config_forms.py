"""The configuration forms, each driven by one list of `Field`s (a field of the API's input
schema and its Chinese label): the input shown follows the schema's field (a number, a tick
box, a choice, a date and time in the business zone), and `read` turns the posted text into
what that schema loads, so that its messages name the field. Adding a field is one line.

A refused write (the schema's ValidationError, or a service's AppError naming fields) re-renders
the form with 422, the messages beside their fields and what was typed kept (`submit`).
"""
import re
from dataclasses import dataclass
from datetime import date, datetime

from flask import request
from marshmallow import ValidationError, validate
from marshmallow import fields as schema_fields

from app.api.console.layer_forms import local_instant
from app.clock import business_tz
from app.errors import AppError
from app.extensions import db

_INTEGER = re.compile(r"-?\d{1,18}")
_OMIT = object()

# The Chinese names of the schemas' choices (OneOf) the forms offer.
CHOICE_NAMES = {
    "coupon": "优惠券", "physical": "实物", "virtual": "虚拟商品",
    "total": "累计", "day": "每天", "week": "每周", "month": "每月",
    "amount_off": "立减券", "percent_off": "折扣券", "threshold_off": "满减券", "gift": "礼品券",
    "complete_profile": "完善资料", "bind_phone": "绑定手机", "first_purchase": "首次消费",
    "checkin_streak": "连续签到", "purchases": "累计消费次数", "mall_redeem": "积分兑换", "invite_friends": "邀请好友",
    "once": "一次性", "daily": "每日", "weekly": "每周", "monthly": "每月",
    "phone_bound": "被邀请人绑定手机",
    "awaiting_shipment": "待发货", "shipped": "已发货", "completed": "已完成", "cancelled": "已取消",
    "clerk": "店员", "manager": "店长",
}


@dataclass(frozen=True)
class Field:
    name: str  # as the schema loads it; dotted into a nested schema or dict ("inviter.points")
    label: str
    kind: str | None = None  # the input; from the schema's field unless given (needed outside the schema)
    choices: str | None = None  # a select of the view's choices[key]: [(value, label)]
    hint: str = ""
    columns: tuple = ()  # kind "rows": the Fields of one row (a list of objects)
    blank_rows: int = 2  # kind "rows": empty rows offered below the stored ones


def _schema_field(schema, name: str):
    """The schema's field a (dotted) form name loads into, by data key; None outside the schema."""
    field = None
    for part in name.split("."):
        if field is not None:
            if not isinstance(field, schema_fields.Nested):
                return None
            schema = field.schema
        field = {found.data_key or key: found for key, found in schema.fields.items()}.get(part)
        if field is None:
            return None
    return field


def _kind(spec: Field, field) -> str:
    if spec.kind:
        return spec.kind
    for field_class, kind in ((schema_fields.Boolean, "checkbox"), (schema_fields.Integer, "number"),
                              (schema_fields.Float, "decimal"), (schema_fields.DateTime, "datetime"),
                              (schema_fields.Date, "date"), (schema_fields.List, "multiple")):
        if isinstance(field, field_class):
            return kind
    return "text"


def form_specs(schema, specs: list[Field]) -> list[Field]:
    """The fields this schema loads (an edit schema leaves some out: kind, stock …)."""
    return [spec for spec in specs if spec.kind or _schema_field(schema, spec.name) is not None]


def _number(text: str):
    return int(text) if _INTEGER.fullmatch(text) else text


def _decimal(text: str):
    try:
        return float(text)
    except ValueError:
        return text


_CONVERT = {"number": _number, "decimal": _decimal, "datetime": local_instant}


def _cell(spec: Field, text: str):
    return _CONVERT.get(spec.kind or "text", str)(text.strip())


def _blank_value(field):
    """An empty input: null where the schema allows it, "" where required (the schema refuses it) or where
    the default is text (a description); else left out (the default on a create, unchanged on an edit)."""
    if field is None:
        return _OMIT
    if field.allow_none:
        return None
    if field.required or isinstance(_default(field), str):
        return ""
    return _OMIT


def _read_one(schema, spec: Field, form):
    field = _schema_field(schema, spec.name)
    kind = _kind(spec, field)
    if kind == "checkbox":
        return spec.name in form
    if kind == "multiple":
        return [_number(value) for value in form.getlist(spec.name) if value != ""]
    if kind == "rows":
        cells = zip(*(form.getlist(f"{spec.name}.{column.name}") for column in spec.columns), strict=False)
        rows = [{column.name: _cell(column, text) for column, text in zip(spec.columns, row, strict=True)
                 if text.strip() != ""} for row in cells]
        rows = [row for row in rows if row]
        return rows if rows or field is not None else _OMIT
    if spec.name not in form:  # not in the form at all: not given (the default, or unchanged)
        return _OMIT
    text = form[spec.name].strip()
    if text == "":
        return _blank_value(field)
    return _CONVERT.get(kind, str)(text)


def read(schema, specs: list[Field], form=None) -> dict:
    """The posted form as `schema` loads it, nested by the dotted names."""
    form = request.form if form is None else form
    data: dict = {}
    for spec in form_specs(schema, specs):
        value = _read_one(schema, spec, form)
        if value is not _OMIT:
            *parents, leaf = spec.name.split(".")
            target = data
            for parent in parents:
                target = target.setdefault(parent, {})
            target[leaf] = value
    return data


def _stored(thing, name: str):
    for part in name.split("."):
        if thing is None:
            return None
        thing = thing.get(part) if isinstance(thing, dict) else getattr(thing, part, None)
    return thing


def _shown(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.astimezone(business_tz()).strftime("%Y-%m-%dT%H:%M")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _default(field):
    value = getattr(field, "load_default", None)
    return None if callable(value) or value is schema_fields.missing_ else value


def _options(spec: Field, field, choices: dict) -> list | None:
    if spec.choices:
        return [(str(value), label) for value, label in choices[spec.choices]]
    for validator in getattr(field, "validators", []):
        if isinstance(validator, validate.OneOf):
            return [(value, CHOICE_NAMES.get(value, value)) for value in validator.choices]
    return None


def _widget(schema, spec: Field, thing, posted, choices: dict) -> dict:
    field = _schema_field(schema, spec.name) if schema is not None else None  # None: a row's column
    kind = _kind(spec, field)
    widget = {"name": spec.name, "label": spec.label, "kind": kind, "hint": spec.hint,
              "options": _options(spec, field, choices),
              "nullable": field is None or field.allow_none}
    if kind == "rows":
        columns = [_widget(None, column, None, None, choices) for column in spec.columns]
        if posted is not None:  # the rows typed in (the blank ones come again below)
            rows = [row for row in zip(*(posted.getlist(f"{spec.name}.{column.name}") for column in spec.columns),
                                       strict=False) if any(cell.strip() for cell in row)]
        else:
            rows = [[_shown(_stored(row, column.name)) for column in spec.columns]
                    for row in (_stored(thing, spec.name) or [])]
        widget.update(columns=columns, rows=[list(row) for row in rows] + [[""] * len(columns)] * spec.blank_rows)
    elif posted is not None:
        widget["value"] = spec.name in posted if kind == "checkbox" else (
            posted.getlist(spec.name) if kind == "multiple" else posted.get(spec.name, ""))
    else:
        value = _stored(thing, spec.name) if thing is not None else _default(field)
        if kind == "checkbox":
            widget["value"] = bool(value)
        elif kind == "multiple":
            widget["value"] = [_shown(item) for item in value or []]
        else:
            widget["value"] = _shown(value)
    return widget


def flat_errors(messages, prefix: str = "") -> dict[str, list[str]]:
    """marshmallow's nested messages (or an AppError's `fields`) by dotted field name."""
    if isinstance(messages, dict):
        found: dict[str, list[str]] = {}
        for key, value in messages.items():
            found.update(flat_errors(value, f"{prefix}{key}."))
        return found
    return {prefix.rstrip("."): [str(message) for message in (messages if isinstance(messages, list) else [messages])]}


def _messages(errors: dict, name: str) -> list[str]:
    """The messages of a field and of what is inside it (a row of a list, a key of a dict)."""
    return [message for key, messages in errors.items() if key == name or key.startswith(f"{name}.")
            for message in messages]


def form_view(schema, specs: list[Field], thing=None, errors: dict | None = None, choices: dict | None = None,
              action: str = "", form_id: str = "") -> dict:
    """What the `config_ui.form` macro renders: the fields with the stored values of `thing` (or the
    schema's defaults), or, after a refusal (`errors`), what was posted; messages no field shows go on top."""
    posted = request.form if errors is not None else None
    errors = errors or {}
    widgets = [{**_widget(schema, spec, thing, posted, choices or {}), "messages": _messages(errors, spec.name)}
               for spec in form_specs(schema, specs)]
    shown = {key for key in errors for widget in widgets
             if key == widget["name"] or key.startswith(f"{widget['name']}.")}
    return {"widgets": widgets, "action": action, "id": form_id,
            "other_errors": [message for key, messages in errors.items() if key not in shown for message in messages]}


def submit(load, write, refused, conflicts: dict | None = None):
    """`write(load())`; a refusal by the schema or by the service (an AppError naming fields, or one of
    `conflicts`: {error code: the field it is about}) answers `refused(errors)`, the form again with 422,
    after undoing what the service had flushed."""
    try:
        return write(load())
    except ValidationError as error:
        return refused(flat_errors(error.messages))
    except AppError as error:
        field = (conflicts or {}).get(error.code)
        if field is None and "fields" not in error.details:
            raise
        db.session.rollback()
        return refused({field: [error.message]} if field else flat_errors(error.details["fields"]))
