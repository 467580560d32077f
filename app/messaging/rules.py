"""Message rules: event kind → template, data fields and page. Operators edit them.

Template ids come from the brand's mini-program account (公共模板库), so there are no
defaults in code: an event whose kind has no enabled rule is dispatched without a send.
"""
from sqlalchemy import select

from app.clock import now
from app.errors import AppError, MessagingError
from app.extensions import db
from app.messaging.models import MessageRule

# The outbox event kinds (see /work's shared contract); a rule names one of them.
EVENT_KINDS = (
    "tier_upgraded", "tier_downgraded", "tier_downgrade_warning", "points_expiring", "coupon_expiring",
    "benefit_claimable", "benefit_expiring", "mall_redeemed", "order_shipped", "referral_rewarded",
)


def all_rules() -> list[MessageRule]:
    return list(db.session.execute(select(MessageRule).order_by(MessageRule.event_kind)).scalars())


def enabled_rules(kinds) -> dict[str, MessageRule]:
    rules = db.session.execute(
        select(MessageRule).where(MessageRule.event_kind.in_(set(kinds)), MessageRule.enabled.is_(True))
    ).scalars()
    return {rule.event_kind: rule for rule in rules}


def template_ids() -> set[str]:
    return set(db.session.execute(select(MessageRule.template_id).where(MessageRule.enabled.is_(True))).scalars())


def save_rule(kind: str, template_id: str, fields: dict[str, str], page: str | None = None,
              enabled: bool = True, actor: str | None = None) -> MessageRule:
    """Create or replace the rule of an event kind. Sends already dispatched keep their data."""
    if kind not in EVENT_KINDS:
        raise AppError(MessagingError.MESSAGE_RULE_NOT_FOUND, details={"kinds": list(EVENT_KINDS)})
    rule = db.session.execute(
        select(MessageRule).where(MessageRule.event_kind == kind).with_for_update()
    ).scalar_one_or_none() or MessageRule(event_kind=kind)
    rule.template_id, rule.fields, rule.page, rule.enabled = template_id, fields, page, enabled
    rule.updated_by, rule.updated_at = actor, now()
    db.session.add(rule)
    db.session.flush()
    return rule
