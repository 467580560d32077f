"""Domain events inside one transaction.

A service announces what just happened (`emit("purchase.recorded", purchase=p)`); the
domains that react to it (task progress, referral rewards) subscribe when the app is
created. Handlers run synchronously in the caller's transaction: they see its rows, and
a rollback undoes their writes too. Messages to the outside world go through the outbox
(app/messaging) instead, so nothing is sent for a transaction that did not commit.

Events emitted so far, with their keyword arguments:
  member.profile_saved   member
  member.phone_bound     member
  purchase.recorded      purchase
  purchase.refunded      purchase, refund
  checkin.recorded       member, checkin     (app/engagement: check-ins and makeups)
  referral.rewarded      referral            (app/engagement: an invitee qualified, both paid)
  mall.redeemed          order               (app/mall: a redemption, before its commit)
  coupon.issued          coupon              (app/mall: by redemption, benefit, store claim or grant)
  coupon.verified        coupon              (app/mall: used in a store)
  member.tier_changed    member, change      (app/members/tiers.change_tier: up or down, after its TierChange)
"""
from collections import defaultdict
from collections.abc import Callable

_handlers: dict[str, list[Callable]] = defaultdict(list)


def subscribe(event: str, handler: Callable) -> None:
    """Idempotent, so an app created twice (tests) does not run a handler twice."""
    if handler not in _handlers[event]:
        _handlers[event].append(handler)


def emit(event: str, **payload) -> None:
    for handler in _handlers[event]:
        handler(**payload)
