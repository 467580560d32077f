"""Reading a page's query string: the cursor of a list, and filters, refused with a 422 page
naming the field when malformed (never a 500)."""
from datetime import date

from flask import request

from app.api.console.session import CSRF_FIELD
from app.api.schemas import BUSINESS_DATE
from app.errors import invalid_field

_ID_MAX = 2**63 - 1


def form_fields() -> dict:
    """The posted form as a dict for a schema's load(), without the CSRF token."""
    return {name: value for name, value in request.form.items() if name != CSRF_FIELD}


def page_args() -> tuple[int | None, dict]:
    """The list's cursor (the last id seen) and the other query arguments as given."""
    args = {name: value for name, value in request.args.items() if value != ""}
    return positive_int(args.pop("cursor", None), "cursor"), args


def positive_int(value: str | None, field: str, maximum: int = _ID_MAX) -> int | None:
    if value is None or value == "":
        return None
    if not value.isascii() or not value.isdigit() or not 1 <= int(value) <= maximum:
        raise invalid_field(field, "不是有效的编号")
    return int(value)


def iso_day(value: str | None, field: str) -> date | None:
    if value is None or value == "":
        return None
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise invalid_field(field, "日期格式应为 YYYY-MM-DD") from None
    if not BUSINESS_DATE.min <= day <= BUSINESS_DATE.max:  # the API's bounds: a day later stays a date
        raise invalid_field(field, f"日期应在 {BUSINESS_DATE.min} 至 {BUSINESS_DATE.max} 之间")
    return day
