"""Display strings beside codes, in Chinese, for the mini-program: a title for each ledger entry
("门店消费 · 静安店", "兑换 · 咖啡券"), the text of a tier change's reason, a tier's name where a
reply holds its level or id. Presentation only: the codes stay the contract, these may be reworded."""
from flask import g
from sqlalchemy import select

from app.engagement.models import Task, TaskClaim
from app.extensions import db
from app.mall.models import MallItem, MallOrder
from app.member_row import Tier
from app.members.tiers import all_tiers
from app.purchases.models import Purchase, Refund
from app.stores.models import Store

# by ledger kind, which is also a tier change's reason (the posting that moved the growth)
KIND_TITLES = {
    "purchase": "门店消费", "refund": "消费退款", "mall_redeem": "兑换", "mall_refund": "兑换取消",
    "conversion": "积分兑券", "expire": "积分过期", "adjust": "积分调整", "checkin": "签到",
    "checkin_streak": "连续签到奖励", "checkin_makeup": "补签", "referral": "邀请好友",
    "referral_reversal": "邀请奖励撤回", "task": "任务奖励", "tier_review": "等级复核",
}
OTHER = "积分变动"


def kind_title(kind: str) -> str:
    return KIND_TITLES.get(kind, OTHER)


def _ids(refs, prefix: str) -> list[int]:
    return [int(ref.removeprefix(prefix)) for ref in refs if ref and ref.startswith(prefix)
            and ref.removeprefix(prefix).isdigit()]


def _names(stmt, ids: list[int]) -> dict[str, str]:
    return {} if not ids else {key: name for key, name in db.session.execute(stmt(ids))}


def _details(refs: set[str]) -> dict[str, str]:
    """What each reference names (a store, an item, a task), read in one query per kind of reference."""
    details = {}
    for prefix, stmt in (
        ("purchase:", lambda ids: select(Purchase.id, Store.name).join(Store, Store.id == Purchase.store_id)
         .where(Purchase.id.in_(ids))),
        ("refund:", lambda ids: select(Refund.id, Store.name).join(Purchase, Purchase.id == Refund.purchase_id)
         .join(Store, Store.id == Purchase.store_id).where(Refund.id.in_(ids))),
        ("mall_order:", lambda ids: select(MallOrder.id, MallItem.name).join(MallItem, MallItem.id == MallOrder.item_id)
         .where(MallOrder.id.in_(ids))),
        ("task_claim:", lambda ids: select(TaskClaim.id, Task.title).join(Task, Task.id == TaskClaim.task_id)
         .where(TaskClaim.id.in_(ids))),
    ):
        details |= {f"{prefix}{key}": name for key, name in _names(stmt, _ids(refs, prefix)).items()}
    return details


class Titled:
    """A ledger entry with its title: the entry's fields, and `title`."""

    def __init__(self, entry, title: str):
        self.entry, self.title = entry, title

    def __getattr__(self, name):
        return getattr(self.entry, name)


def titled(entries: list) -> list[Titled]:
    """Each entry with its title: the kind's, and what its reference names, if anything."""
    details = _details({entry.ref for entry in entries})
    return [Titled(entry, " · ".join(filter(None, (kind_title(entry.kind), details.get(entry.ref)))))
            for entry in entries]


def _ladder() -> list[Tier]:
    """The tiers, lowest first, read once per request (a page of items names a tier per item)."""
    if "tier_ladder" not in g:
        g.tier_ladder = all_tiers()
    return g.tier_ladder


def tier_name_at(level: int | None) -> str | None:
    """The name of the tier a minimum level asks for: the lowest at or above it (None: no minimum, or
    no tier that high)."""
    return None if level is None else next((tier.name for tier in _ladder() if tier.level >= level), None)


def tier_name(tier_id: int) -> str | None:
    return next((tier.name for tier in _ladder() if tier.id == tier_id), None)


def _times(pct: int) -> str:
    return f"{pct / 100:g}倍"


def benefit_labels(benefits: dict, points_multiplier_pct: int) -> list[str]:
    """What a tier gives, one label per benefit, for the card ("95折", "包邮", "消费积分1.5倍" ...);
    benefits that give nothing (a 100 % discount, false, 0) have no label."""
    labels = []
    pct = benefits.get("discount_pct")
    if isinstance(pct, int) and 0 < pct < 100:
        labels.append(f"{pct // 10 if pct % 10 == 0 else pct}折")
    if points_multiplier_pct > 100:
        labels.append(f"消费积分{_times(points_multiplier_pct)}")
    if benefits.get("checkin_multiplier") is True and points_multiplier_pct > 100:
        labels.append(f"签到积分{_times(points_multiplier_pct)}")
    if benefits.get("free_shipping") is True:
        labels.append("包邮")
    points = benefits.get("birthday_points")
    if isinstance(points, int) and points > 0:
        labels.append(f"生日送{points}积分")
    labels += [label for key, label in (("monthly_coupons", "每月礼券"), ("birthday_coupons", "生日礼券"),
                                        ("upgrade_coupons", "升级礼包")) if benefits.get(key)]
    return labels
