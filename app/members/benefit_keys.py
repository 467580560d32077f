"""What a tier's `benefits` may hold: each known key with the check of its value.

The one list: a key not here is refused (a typo would be stored and read as absent), and
so is a value of the wrong type (a bool is not a number here). Who reads each key:
  discount_pct        int 1–100, the price paid in % (95 = 9.5折; shown on the card)
  free_shipping       bool (shown on the card)
  birthday_points     int ≥ 0 (shown on the card)
  checkin_multiplier  bool: the tier's points multiplier applies to check-in points (app/engagement)
  monthly_coupons, birthday_coupons, upgrade_coupons
                      coupon packs to claim, [{"template_id": int, "count": 1–10}] (app/mall/benefits.py;
                      the mall checks that the templates exist, on `tier.saved`)
`check_benefits` raises errors.invalid_field naming `benefits.<key>`: the same 422 for the
API, the CLI and the console, since the tier service calls it.
"""
from app.errors import invalid_field

COUPON_PACKS = ("monthly_coupons", "birthday_coupons", "upgrade_coupons")
MAX_PACK_ENTRIES, MAX_COUNT, MAX_ID = 10, 10, 2**31 - 1


def _int(value, low: int, high: int) -> str | None:
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        return f"须为 {low} 到 {high} 之间的整数"
    return None


def _bool(value) -> str | None:
    return None if isinstance(value, bool) else "须为 true 或 false"


def _pack(value) -> str | None:
    if not isinstance(value, list) or len(value) > MAX_PACK_ENTRIES:
        return f"须为数组，最多 {MAX_PACK_ENTRIES} 项 {{\"template_id\", \"count\"}}"
    for index, entry in enumerate(value):
        if not isinstance(entry, dict) or "template_id" not in entry or set(entry) - {"template_id", "count"}:
            return f"[{index}] 须为 {{\"template_id\": 编号, \"count\": 1–{MAX_COUNT}}}（count 可省略）"
        problem = _int(entry["template_id"], 1, MAX_ID) or _int(entry.get("count", 1), 1, MAX_COUNT)
        if problem:
            return f"[{index}]: {'template_id' if _int(entry['template_id'], 1, MAX_ID) else 'count'} {problem}"
    return None


CHECKS = {
    "discount_pct": lambda value: _int(value, 1, 100),
    "free_shipping": _bool,
    "birthday_points": lambda value: _int(value, 0, 1_000_000),
    "checkin_multiplier": _bool,
    **{key: _pack for key in COUPON_PACKS},
}


def check_benefits(benefits: dict) -> None:
    for key, value in sorted(benefits.items()):
        check = CHECKS.get(key)
        if check is None:
            raise invalid_field(f"benefits.{key}", f"未知的权益；可用：{', '.join(CHECKS)}")
        if problem := check(value):
            raise invalid_field(f"benefits.{key}", problem)
