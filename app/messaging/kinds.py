"""The outbox event kinds: the one list that the outbox, message rules, subscriptions and docs read.

Each kind carries a Chinese label for operators and its payload: the fields its events
hold, which are the {placeholders} a message rule may use, each with a sample value (a
rule's preview renders it, app/messaging/rules.py). Payload values are plain JSON: dates
as YYYY-MM-DD, names as text. A kind not listed here is an error where it is written
(`EventKind.X`, or `EventKind("x")` for a string) and a 404 or 422 at the API, never a
surprise at send time.
"""
from app.enums import DataEnum


class EventKind(DataEnum):
    """`NAME = value, Chinese label, sample payload`."""

    @property
    def label(self) -> str:
        return self.data[0]

    @property
    def sample(self) -> dict:
        return self.data[1]

    @property
    def fields(self) -> tuple[str, ...]:
        """The payload's fields: the placeholders a rule of this kind may use."""
        return tuple(self.sample)

    TIER_UPGRADED = "tier_upgraded", "会员升级", {"from": "银卡会员", "to": "金卡会员", "reason": "purchase"}
    # a downgrade by the review also says when and against what it was judged
    TIER_DOWNGRADED = "tier_downgraded", "会员降级", {
        "from": "金卡会员", "to": "银卡会员", "reason": "tier_review", "review_on": "2026-12-31", "growth": 320,
        "threshold": 1000}
    TIER_DOWNGRADE_WARNING = "tier_downgrade_warning", "保级提醒", {
        "tier": "金卡会员", "falls_to": "银卡会员", "review_on": "2026-12-31", "days_left": 30, "growth": 320,
        "growth_needed": 680}
    # `conversion` only when the mall offers to turn the points into a coupon (app/mall/points_conversion.py)
    POINTS_EXPIRING = "points_expiring", "积分到期提醒", {
        "points": 1200, "expires_on": "2026-12-31", "days_left": 7, "offset_days": 7,
        "conversion": {"template_id": 1, "coupon": "积分兑换券", "value": "5元", "points": 500}}
    COUPON_EXPIRING = "coupon_expiring", "优惠券到期提醒", {
        "coupon_id": 1, "coupon": "满100减20券", "value": "满100元减20元", "expires_on": "2026-12-31", "days_left": 3}
    BENEFIT_CLAIMABLE = "benefit_claimable", "权益可领取", {
        "benefit": "每月礼券", "tier": "金卡会员", "expires_on": "2026-12-31"}
    BENEFIT_EXPIRING = "benefit_expiring", "权益到期提醒", {
        "grant_id": 1, "benefit": "每月礼券", "expires_on": "2026-12-31", "days_left": 3}
    MALL_REDEEMED = "mall_redeemed", "积分兑换成功", {
        "order_id": 1, "item_name": "品牌帆布袋", "points": 500, "points_left": 700, "redeemed_on": "2026-12-02"}
    ORDER_SHIPPED = "order_shipped", "兑换商品已发货", {
        "order_id": 1, "item_name": "品牌帆布袋", "points": 500, "carrier": "顺丰速运", "tracking_no": "SF1234567890",
        "shipped_on": "2026-12-03"}
    REFERRAL_REWARDED = "referral_rewarded", "邀请奖励到账", {
        "invitee": "新朋友", "points": 100, "growth": 10, "rewarded_on": "2026-12-02"}
    # a campaign reached the member (app/campaigns): `coupon` is empty when it granted none
    CAMPAIGN_REACHED = "campaign_reached", "活动触达", {
        "campaign": "沉睡会员唤醒", "coupon": "满100减20券", "points": 200}


def event_kind(kind: str) -> EventKind | None:
    """The kind a string names, or None."""
    return EventKind._value2member_map_.get(kind)
