"""Subscription quota: what members accepted in wx.requestSubscribeMessage, per template, and
which templates each page of the mini-program asks for.

The mini-program reports each call's result ({template id: "accept" | "reject" | …}).
- One-time templates: each "accept" (or WeChat's variants "acceptWithAudio", "acceptWithAlert")
  is one send. A send takes one (a guarded UPDATE, so
  two sends never share one acceptance); a send that WeChat did not deliver gives it
  back; WeChat's 43101 (refused / nothing left) sets it to 0.
- Long-term templates (SUBSCRIBE_LONG_TERM_TEMPLATES): "accept" subscribes, "reject"
  unsubscribes; sends do not use anything up.
"ban" and "filter" (WeChat blocked the template) change nothing here.
A page asks for at most three templates in one call (WeChat's limit), one-time and long-term
never mixed (WeChat refuses the call): `RequestPage` lists, per page, the event kinds it asks for.
"""
from flask import current_app
from sqlalchemy import bindparam, select, update

from app.clock import now
from app.db_helpers import insert_ignoring_conflict
from app.enums import DataEnum
from app.errors import AppError, MessagingError
from app.extensions import db
from app.messaging.kinds import EventKind
from app.messaging.models import MessageRule, Subscription
from app.messaging.rules import template_ids

ACCEPTED = frozenset({"accept", "acceptWithAudio", "acceptWithAlert"})
REJECTED = "reject"
RESULTS = (*sorted(ACCEPTED), REJECTED, "ban", "filter")
TEMPLATES_PER_REQUEST = 3  # wx.requestSubscribeMessage takes at most three tmplIds


def long_term_templates() -> frozenset[str]:
    return frozenset(t for t in current_app.config["SUBSCRIBE_LONG_TERM_TEMPLATES"].split(",") if t)


def report(member_id: int, results: dict[str, str]) -> None:
    """Record one wx.requestSubscribeMessage result; templates must be ones a rule sends."""
    unknown = sorted(set(results) - template_ids())
    if unknown:
        raise AppError(MessagingError.SUBSCRIBE_TEMPLATE_UNKNOWN, details={"template_ids": unknown})
    long_term = long_term_templates()
    for template_id, result in sorted(results.items()):
        accepted, rejected = result in ACCEPTED, result == REJECTED
        if not (accepted or rejected):
            continue
        insert_ignoring_conflict(Subscription, {"member_id": member_id, "template_id": template_id,
                                                "remaining": 0, "accepted_count": 0, "rejected_count": 0,
                                                "updated_at": now()}, ["member_id", "template_id"])
        if template_id in long_term:
            remaining = 1 if accepted else 0
        else:
            remaining = Subscription.remaining + (1 if accepted else 0)
        # relative update: concurrent reports add up instead of overwriting each other
        db.session.execute(_row(member_id, template_id).values(
            remaining=remaining, updated_at=now(),
            accepted_count=Subscription.accepted_count + int(accepted),
            rejected_count=Subscription.rejected_count + int(rejected)))


def _row(member_id: int, template_id: str):
    return update(Subscription).where(Subscription.member_id == member_id, Subscription.template_id == template_id)


# Built once (every send takes one): by long-term or not, the guarded UPDATE on the row.
_TAKE = {
    long_term: update(Subscription.__table__)
    .where(Subscription.member_id == bindparam("of_member"), Subscription.template_id == bindparam("of_template"),
           Subscription.remaining > 0)
    .values(updated_at=bindparam("at"), **({} if long_term else {"remaining": Subscription.remaining - 1}))
    for long_term in (False, True)
}


def take(member_id: int, template_id: str) -> bool:
    """Use one acceptance for a send (long-term: check it is subscribed). False: none left."""
    stmt = _TAKE[template_id in long_term_templates()]
    params = {"of_member": member_id, "of_template": template_id, "at": now()}
    return db.session.connection().execute(stmt, params).rowcount == 1


def give_back(member_id: int, template_id: str) -> None:
    """WeChat did not deliver: the acceptance is still good for a later send."""
    if template_id not in long_term_templates():
        db.session.execute(_row(member_id, template_id).values(remaining=Subscription.remaining + 1,
                                                               updated_at=now()))


def refused(member_id: int, template_id: str) -> None:
    """WeChat's 43101: the member has no subscription left (or refused), whatever we counted."""
    db.session.execute(_row(member_id, template_id).values(remaining=0, updated_at=now()))


def _enabled_templates() -> dict[str, str]:
    """event kind → the template its enabled rule sends."""
    return dict(db.session.execute(
        select(MessageRule.event_kind, MessageRule.template_id).where(MessageRule.enabled.is_(True))).all())


def _remaining(member_id: int) -> dict[str, int]:
    return dict(db.session.execute(
        select(Subscription.template_id, Subscription.remaining).where(Subscription.member_id == member_id)).all())


def templates_for(member_id: int) -> list[dict]:
    """Each template an enabled rule sends, the event kinds it serves, and the member's quota."""
    kinds: dict[str, list[str]] = {}
    for kind, template_id in sorted(_enabled_templates().items()):
        kinds.setdefault(template_id, []).append(kind)
    remaining, long_term = _remaining(member_id), long_term_templates()
    return [{"template_id": template_id, "event_kinds": event_kinds, "long_term": template_id in long_term,
             "remaining": remaining.get(template_id, 0)} for template_id, event_kinds in sorted(kinds.items())]


class RequestPage(DataEnum):
    """A page of the mini-program that asks for subscriptions (on a tap there, as WeChat requires):
    `NAME = value, label, the event kinds it asks for, most wanted first`."""

    @property
    def label(self) -> str:
        return self.data[0]

    @property
    def kinds(self) -> tuple[EventKind, ...]:
        return self.data[1]

    CARD = "card", "会员卡", (EventKind.TIER_UPGRADED, EventKind.TIER_DOWNGRADE_WARNING, EventKind.TIER_DOWNGRADED,
                           EventKind.BENEFIT_CLAIMABLE)
    CHECKIN = "checkin", "签到", (EventKind.POINTS_EXPIRING, EventKind.COUPON_EXPIRING, EventKind.CAMPAIGN_REACHED)
    MALL_ORDER = "mall_order", "积分兑换", (EventKind.MALL_REDEEMED, EventKind.ORDER_SHIPPED,
                                        EventKind.POINTS_EXPIRING)
    COUPONS = "coupons", "我的优惠券", (EventKind.COUPON_EXPIRING, EventKind.BENEFIT_EXPIRING,
                                    EventKind.CAMPAIGN_REACHED)
    BENEFITS = "benefits", "会员权益", (EventKind.BENEFIT_CLAIMABLE, EventKind.BENEFIT_EXPIRING,
                                    EventKind.TIER_DOWNGRADE_WARNING)
    INVITE = "invite", "邀请好友", (EventKind.REFERRAL_REWARDED,)


def request_pages(member_id: int) -> list[dict]:
    """For each page, the templates to pass to wx.requestSubscribeMessage there: those of enabled
    rules for its kinds, the ones the member has no send left of first, then in the page's order;
    at most three, all one-time or all long-term (as the first). None: the page asks for nothing."""
    templates, remaining, long_term = _enabled_templates(), _remaining(member_id), long_term_templates()
    pages = []
    for page in RequestPage:
        wanted = list(dict.fromkeys(templates[kind] for kind in page.kinds if kind in templates))
        wanted.sort(key=lambda template_id: remaining.get(template_id, 0) > 0)  # stable: the page's order after
        chosen = [template_id for template_id in wanted
                  if (template_id in long_term) == (wanted[0] in long_term)][:TEMPLATES_PER_REQUEST]
        pages.append({"page": page, "label": page.label, "template_ids": chosen,
                      "event_kinds": [kind for kind in page.kinds if templates.get(kind) in chosen]})
    return pages
