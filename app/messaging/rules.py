"""Message rules: event kind → template, data fields and page. Operators edit them.

Template ids come from the brand's mini-program account (公共模板库), so there are no
defaults in code: an event whose kind has no enabled rule is dispatched without a send.
A rule's {placeholders} must be fields of its kind's payload (app/messaging/kinds.py), so
a typo such as {item_nam} is refused when the rule is saved instead of sending "-".
`preview` shows what WeChat would receive for a sample event, fitted by the dispatcher's
own `fit_data`.
"""
from sqlalchemy import select

from app.clock import business_tz, now
from app.errors import AppError, MessagingError, invalid_field
from app.extensions import db
from app.messaging.fields import fit_data, placeholders
from app.messaging.kinds import EventKind, event_kind
from app.messaging.models import MessageRule


def all_rules() -> list[MessageRule]:
    return list(db.session.execute(select(MessageRule).order_by(MessageRule.event_kind)).scalars())


def enabled_rules(kinds) -> dict[str, MessageRule]:
    rules = db.session.execute(
        select(MessageRule).where(MessageRule.event_kind.in_(set(kinds)), MessageRule.enabled.is_(True))
    ).scalars()
    return {rule.event_kind: rule for rule in rules}


def template_ids() -> set[str]:
    return set(db.session.execute(select(MessageRule.template_id).where(MessageRule.enabled.is_(True))).scalars())


def get_kind(kind: str) -> EventKind:
    """The kind a string names; 404 MESSAGE_RULE_NOT_FOUND for any other."""
    known = event_kind(kind)
    if known is None:
        raise AppError(MessagingError.MESSAGE_RULE_NOT_FOUND, details={"kinds": list(EventKind)})
    return known


def _check_placeholders(kind: EventKind, fields: dict[str, str]) -> None:
    for key, text in sorted(fields.items()):
        if unknown := sorted(set(placeholders(text)) - set(kind.fields)):
            raise invalid_field("fields", f"{key}：{', '.join('{' + name + '}' for name in unknown)} 不是 "
                                          f"{kind.value} 的字段；可用：{', '.join(kind.fields)}")


def save_rule(kind: str, template_id: str, fields: dict[str, str], page: str | None = None,
              enabled: bool = True, actor: str | None = None) -> MessageRule:
    """Create or replace the rule of an event kind. Sends already dispatched keep their data."""
    kind = get_kind(kind)
    _check_placeholders(kind, fields)
    rule = db.session.execute(
        select(MessageRule).where(MessageRule.event_kind == kind.value).with_for_update()
    ).scalar_one_or_none() or MessageRule(event_kind=kind.value)
    rule.template_id, rule.fields, rule.page, rule.enabled = template_id, fields, page, enabled
    rule.updated_by, rule.updated_at = actor, now()
    db.session.add(rule)
    db.session.flush()
    return rule


def preview(kind: str, rule: dict | None = None, payload: dict | None = None) -> dict:
    """The message a sample event of `kind` would send under `rule` (template_id, fields, page),
    or under the stored rule: the kind's sample payload, with `payload`'s values over it."""
    kind = get_kind(kind)
    if rule is None:
        stored = db.session.execute(
            select(MessageRule).where(MessageRule.event_kind == kind.value)).scalar_one_or_none()
        if stored is None:
            raise AppError(MessagingError.MESSAGE_RULE_NOT_FOUND)
        rule = {"template_id": stored.template_id, "fields": stored.fields, "page": stored.page}
    else:
        _check_placeholders(kind, rule["fields"])
    if unknown := sorted(set(payload or {}) - set(kind.fields)):
        raise invalid_field("payload", f"{', '.join(unknown)}：不是 {kind.value} 的字段；可用："
                                       f"{', '.join(kind.fields)}")
    sample = {**kind.sample, **(payload or {})}
    return {"event_kind": kind, "label": kind.label, "template_id": rule["template_id"], "page": rule.get("page"),
            "payload": sample, "data": fit_data(rule["fields"], sample, business_tz())}
