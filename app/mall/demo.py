"""The mall's part of the demo data (`flask demo-data`): coupon templates, categories and items of
each kind, a store coupon, and one redemption made through the real service."""
from sqlalchemy import select

from app.extensions import db
from app.mall import categories, coupons, items, redemption, store_coupons
from app.mall.models import AMOUNT_OFF, COUPON_ITEM, GIFT, PERCENT_OFF, PHYSICAL, THRESHOLD_OFF, VIRTUAL
from app.member_row import Tier


def load_mall_demo(store_id: int, member_id: int) -> None:
    over_100 = coupons.create_template(name="满100减20", kind=THRESHOLD_OFF, amount_off_fen=20_00,
                                       threshold_fen=100_00, valid_days=30, total_limit=1000, per_member_limit=3)
    coupons.create_template(name="8.5折券", kind=PERCENT_OFF, percent_off=15, max_off_fen=50_00, valid_days=14)
    latte = coupons.create_template(name="拿铁兑换券", kind=GIFT, gift_name="拿铁一杯", valid_days=30)
    welcome = coupons.create_template(name="到店礼10元", kind=AMOUNT_OFF, amount_off_fen=10_00, valid_days=7,
                                      total_limit=500, per_member_limit=1, store_ids=[store_id])
    store_coupons.add_offer(store_id, welcome.id)
    _tier_coupon_packs(latte.id)

    tabs = {name: categories.create_category(name=name, sort_order=order).id
            for order, name in enumerate(("优惠券", "实物好礼", "虚拟权益"))}
    coupon_item = items.create_item(name="满100减20券", kind=COUPON_ITEM, coupon_template_id=over_100.id,
                                    price_points=200, stock=500, per_member_limit=2, limit_period="month",
                                    member_day_price_pct=50, description="会员日半价兑换", category_id=tabs["优惠券"])
    items.create_item(name="品牌帆布袋", kind=PHYSICAL, price_points=1500, stock=50, per_member_limit=1,
                      description="实物礼品，包邮到家", category_id=tabs["实物好礼"],
                      image_url="https://img.example.com/mall/tote-bag.jpg")
    items.create_item(name="视频会员月卡", kind=VIRTUAL, price_points=3000, min_tier_level=1,
                      description="银卡及以上会员可兑换", category_id=tabs["虚拟权益"])
    items.create_item(name="会员日限定：拿铁", kind=COUPON_ITEM, coupon_template_id=latte.id, price_points=100,
                      stock=100, per_member_limit=1, limit_period="month", member_day_only=True, min_tier_level=2,
                      description="每月会员日，金卡及以上会员专享", category_id=tabs["优惠券"])
    redemption.redeem(member_id, coupon_item.id)


def _tier_coupon_packs(latte_id: int) -> None:
    """Tier benefits to claim (app/mall/benefits.py): a monthly pack from 金卡, a birthday
    latte from 银卡, an upgrade pack on reaching 金卡. `make run` grants the month's at start."""
    monthly = coupons.create_template(name="会员月礼10元券", kind=AMOUNT_OFF, amount_off_fen=10_00, valid_days=30)
    packs = {
        "银卡": {"birthday_coupons": [{"template_id": latte_id, "count": 1}]},
        "金卡": {"birthday_coupons": [{"template_id": latte_id, "count": 1}],
                 "monthly_coupons": [{"template_id": monthly.id, "count": 1}],
                 "upgrade_coupons": [{"template_id": monthly.id, "count": 2}]},
        "钻石": {"birthday_coupons": [{"template_id": latte_id, "count": 2}],
                 "monthly_coupons": [{"template_id": monthly.id, "count": 2}]},
    }
    for tier in db.session.execute(select(Tier).where(Tier.name.in_(packs))).scalars():
        tier.benefits = {**tier.benefits, **packs[tier.name]}
