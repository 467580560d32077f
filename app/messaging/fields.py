"""Subscribe-message values fitted to WeChat's rules for each field type.

A template's keys carry their type as a prefix ("thing1", "date3"). WeChat answers
47003 to a value outside its type's rule; we fit the value instead of failing the send:

| type             | rule (WeChat's subscribeMessage.send)                  | we                                |
|------------------|--------------------------------------------------------|-----------------------------------|
| thing            | ≤ 20 characters, any                                   | cut to 19 + "…"                   |
| number           | ≤ 32 digits, may have a decimal point                  | keep digits/sign/point, cut to 32 |
| letter           | ≤ 32 letters                                           | keep letters, cut                 |
| symbol           | ≤ 5 symbols                                            | cut                               |
| character_string | ≤ 32 digits, letters or symbols                        | drop other characters, cut        |
| phone_number     | ≤ 17 digits and symbols                                | drop other characters, cut        |
| car_number       | ≤ 8 characters                                         | cut                               |
| name             | ≤ 10 Chinese characters, or ≤ 20 letters               | cut (to 10 if any Chinese)        |
| phrase           | ≤ 5 Chinese characters only                            | keep Chinese characters, cut      |
| date             | a date (年月日 or with - / .), optionally a time        | ISO dates → 2026年12月31日          |
| time             | a 24 h time, optionally after a date                   | ISO datetimes → 2026年12月31日 15:01 |
| amount           | currency sign + ≤ 10 digits, may end in 元             | "¥12.50" (never over 10 digits)   |
Control characters (newlines) are never allowed: they become spaces. An empty value is
refused by WeChat too, so an empty result becomes "-" (thing, character_string, …).
"""
import re
from datetime import date, datetime
from zoneinfo import ZoneInfo

_KEY = re.compile(r"^([a-z_]+?)\d+$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")
_CHINESE = re.compile(r"[\u4e00-\u9fff]")
_LENGTH = {"thing": 20, "number": 32, "letter": 32, "symbol": 5, "character_string": 32, "phone_number": 17,
           "car_number": 8, "phrase": 5}
_KEEP = {  # characters a type allows; the rest are dropped
    "number": re.compile(r"[^0-9.\-]"),
    "letter": re.compile(r"[^A-Za-z]"),
    "character_string": re.compile(r"[^\x21-\x7e]"),
    "phone_number": re.compile(r"[^0-9+\-() ]"),
    "phrase": re.compile(r"[^\u4e00-\u9fff]"),
}
PLACEHOLDER = re.compile(r"\{(\w+)\}")


def field_type(key: str) -> str:
    match = _KEY.match(key)
    return match.group(1) if match else key


def placeholders(text: str) -> list[str]:
    """The {names} a rule's text fills from the payload."""
    return PLACEHOLDER.findall(text)


def render(text: str, payload: dict) -> str:
    """Fill {name} from the payload; a name the payload lacks becomes empty text.

    Only plain names: no attribute or index access, so a rule cannot reach past the payload.
    """
    return PLACEHOLDER.sub(lambda m: "" if payload.get(m.group(1)) is None else str(payload[m.group(1)]), text)


def fit(key: str, value: str, tz: ZoneInfo) -> str:
    """The value as WeChat accepts it for this key's type."""
    kind = field_type(key)
    value = _CONTROL.sub(" ", value).strip()
    if kind in _KEEP:
        value = _KEEP[kind].sub("", value)
    if kind == "date":
        value = _date_text(value, tz, with_time=False)
    elif kind == "time":
        value = _date_text(value, tz, with_time=True)
    elif kind == "amount":
        value = _amount(value)
    elif kind == "name":
        value = value[:10] if _CHINESE.search(value) else value[:20]
    elif kind == "thing" and len(value) > _LENGTH["thing"]:
        value = value[:_LENGTH["thing"] - 1] + "…"
    elif kind in _LENGTH:
        value = value[:_LENGTH[kind]]
    return value or "-"


def _date_text(value: str, tz: ZoneInfo, with_time: bool) -> str:
    """ISO dates and datetimes in the Chinese form WeChat shows; anything else as given."""
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return value
    if len(value) <= 10:  # a bare date
        day = date.fromisoformat(value)
        return f"{day.year}年{day.month}月{day.day}日" + (" 00:00" if with_time else "")
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(tz)
    text = f"{parsed.year}年{parsed.month}月{parsed.day}日"
    return f"{text} {parsed:%H:%M}" if with_time else text


def _amount(value: str) -> str:
    number = re.search(r"-?\d+(?:\.\d+)?", value.replace(",", ""))
    if number is None:
        return value
    whole, _, cents = number.group(0).partition(".")
    return f"¥{whole}.{cents[:2]}" if cents else f"¥{whole}"


def fit_data(fields: dict[str, str], payload: dict, tz: ZoneInfo) -> dict[str, dict[str, str]]:
    """A rule's fields rendered from the payload and fitted, in WeChat's {"key": {"value"}} shape."""
    return {key: {"value": fit(key, render(text, payload), tz)} for key, text in fields.items()}
