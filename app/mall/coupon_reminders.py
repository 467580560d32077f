"""Reminders before coupons expire: one `coupon_expiring` event per coupon.

A coupon is due when its last valid business day falls within COUPON_EXPIRY_REMINDER_DAYS
(default 3) days from today and it is still unused (app/messaging/countdown.py: once per
coupon, a missed day caught up while it is valid; a coupon issued already inside the
window is reminded at the next run).
"""
from flask import current_app

from app.batches import Batches
from app.clock import last_day
from app.mall.coupons import describe
from app.mall.models import ISSUED, Coupon
from app.messaging.countdown import remind_ending
from app.messaging.kinds import EventKind

REMINDER_KIND = EventKind.COUPON_EXPIRING


def remind_expiring() -> Batches:
    """Write the coupon-expiring reminders due today (a sweep: app/batches.py)."""
    return remind_ending(REMINDER_KIND, Coupon, Coupon.valid_until, current_app.config["COUPON_EXPIRY_REMINDER_DAYS"],
                         Coupon.state == ISSUED, _payload)


def _payload(coupon: Coupon, day) -> dict:
    ends_on = last_day(coupon.valid_until)
    return {"coupon_id": coupon.id, "coupon": coupon.template.name, "value": describe(coupon.template),
            "expires_on": ends_on.isoformat(), "days_left": (ends_on - day).days}
