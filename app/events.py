"""Domain events inside one transaction.

A service announces what just happened (`emit("purchase.recorded", purchase=p)`); the
domains that react to it (task progress, referral rewards) are listed in
app/subscribers.py, which create_app subscribes to its app (`init_app`). Handlers run
synchronously in the caller's transaction: they see its rows, and a rollback undoes their
writes too. Messages to the outside world go through the outbox (app/messaging) instead,
so nothing is sent for a transaction that did not commit.

The events, with their keyword arguments:
  member.joined          member, invite_code (app/members: created by their first login; the code may be None)
  member.profile_saved   member
  member.phone_bound     member
  purchase.recorded      purchase, first     (first: the member's first purchase ever)
  purchase.refunded      purchase, refund
  checkin.recorded       member, checkin     (app/engagement: check-ins and makeups)
  referral.rewarded      referral            (app/engagement: an invitee qualified, both paid)
  mall.redeemed          order               (app/mall: a redemption, before its commit)
  member.tier_changed    member, change      (app/members/tiers.change_tier: up or down, after its TierChange)
  tier.saved             tier                (app/members/tiers: created or changed by an operator, flushed;
                                             a handler may refuse it with errors.invalid_field)
  points.expiring        member_id, expires_on, points, payload
                                             (app/points/expiry: a reminder; a handler may add to its payload)
"""
from collections import defaultdict
from collections.abc import Callable, Iterable

from flask import Flask, current_app

Subscriber = tuple[str, Callable]  # (event, handler)


def init_app(app: Flask, subscribers: Iterable[Subscriber]) -> None:
    handlers = defaultdict(list)
    for event, handler in subscribers:
        handlers[event].append(handler)
    app.extensions["events"] = dict(handlers)


def emit(event: str, **payload) -> None:
    for handler in current_app.extensions["events"].get(event, ()):
        handler(**payload)
