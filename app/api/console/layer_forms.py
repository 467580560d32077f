"""Reading the segment and campaign forms into what the API's schemas load: numbers as
numbers, ticked boxes as lists or True, a datetime-local field in the business zone.
Anything malformed is left as text for the schema to refuse, naming the field."""
from datetime import datetime

from flask import request

from app.clock import business_tz

CONDITION_LISTS = ("layers", "tier_ids", "store_ids")
CONDITION_NUMBERS = ("last_purchase_before_days", "points_min", "points_max", "checkin_streak_min")


def _number(text: str):
    stripped = text.strip()
    digits = stripped[1:] if stripped.startswith("-") else stripped
    return int(stripped) if digits.isascii() and digits.isdigit() else text


def conditions(source=None) -> dict:
    """The segment conditions in a form or query: only those filled in."""
    source = request.values if source is None else source
    found = {}
    for name in CONDITION_LISTS:
        values = [value for value in source.getlist(name) if value != ""]
        if values:
            found[name] = values if name == "layers" else [_number(value) for value in values]
    for name in CONDITION_NUMBERS:
        if source.get(name, "") != "":
            found[name] = _number(source[name])
    if source.get("points_expiring_before", "") != "":
        found["points_expiring_before"] = source["points_expiring_before"]
    return found


def campaign() -> dict:
    """The campaign form as CampaignSchema loads it."""
    form = request.form
    found = {"name": form.get("name", ""), "segment_id": _number(form.get("segment_id", "")),
             "send_message": "send_message" in form, "recall": "recall" in form}
    for name in ("coupon_template_id", "points", "holdout_pct", "response_days"):
        if form.get(name, "") != "":
            found[name] = _number(form[name])
    found["starts_at"] = local_instant(form.get("starts_at", ""))
    return found


def local_instant(text: str) -> str:
    """A datetime-local value (no offset) as an instant in the business zone; else as given."""
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return text
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=business_tz())).isoformat()
