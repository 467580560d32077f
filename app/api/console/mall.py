"""积分商城 · 商品: mall items (create, edit, on and off sale, restock), through the admin API's
service and schemas (app/api/admin_mall.py)."""
from flask import render_template, url_for

from app.api.console.config_forms import CHOICE_NAMES, Field, form_view, read, submit
from app.api.console.forms import page_args
from app.api.console.pages import flash_and_redirect, page_blueprint
from app.api.mall_order_schemas import ItemPatchSchema, ItemSchema, RestockArgs
from app.api.pagination import page
from app.errors import CouponError, MallError
from app.mall import items
from app.mall.categories import all_categories
from app.mall.coupons import all_templates
from app.members import tiers

blp = page_blueprint("console_mall", __name__)
PAGE_SIZE = 50
ITEM_FIELDS = [
    Field("name", "名称"),
    Field("description", "说明"),
    Field("category_id", "分类", choices="categories", hint="空：不归入分类"),
    Field("image_url", "图片地址", hint="https:// 开头，小程序下载域名内"),
    Field("kind", "类型", hint="创建后不可改"),
    Field("coupon_template_id", "兑换的优惠券", choices="templates", hint="仅优惠券类商品；创建后不可改"),
    Field("price_points", "所需积分"),
    Field("stock", "库存", hint="空：不限量；创建后用「补货」增减"),
    Field("per_member_limit", "每人限兑", hint="空：不限"),
    Field("limit_period", "限兑周期"),
    Field("min_tier_level", "最低等级", choices="tiers", hint="空：所有会员"),
    Field("sale_starts_at", "开售时间", hint="空：立即"),
    Field("sale_ends_at", "停售时间", hint="空：长期"),
    Field("member_day_price_pct", "会员日价格（%）", hint="如 80：会员日 8 折；空：无会员日价"),
    Field("member_day_only", "仅会员日可兑"),
    Field("active", "上架"),
]
RESTOCK_FIELDS = [Field("delta", "补货数量", hint="正数补货，负数减少；不会低于零")]


def _choices() -> dict:
    return {"templates": [(template.id, template.name) for template in all_templates()],
            "tiers": [(tier.level, tier.name) for tier in tiers.all_tiers()],
            "categories": [(category.id, category.name) for category in all_categories()]}


@blp.get("/mall")
def index(errors=None):
    cursor, _ = page_args()
    creating = form_view(ItemSchema(), ITEM_FIELDS, errors=errors, choices=_choices(), action=url_for(".create"),
                         form_id="create-item")
    html = render_template("console/mall_items.html", **page(items.items_page(cursor, PAGE_SIZE + 1), PAGE_SIZE),
                           form=creating, remaining_stock=items.remaining_stock, choice_names=CHOICE_NAMES)
    return html, 422 if errors else 200


@blp.post("/mall/items")
def create():
    def created(args):
        item = items.create_item(**args)
        return flash_and_redirect(f"已添加商品 {item.name}", ".index")

    return submit(lambda: ItemSchema().load(read(ItemSchema(), ITEM_FIELDS)), created, index,
                  {CouponError.COUPON_TEMPLATE_NOT_FOUND: "coupon_template_id"})


@blp.get("/mall/items/<int:item_id>")
def item(item_id, errors=None, restock_errors=None):
    found = items.get_item(item_id)
    editing = form_view(ItemPatchSchema(), ITEM_FIELDS, found, errors, _choices(),
                        url_for(".update", item_id=item_id), "edit-item")
    restocking = form_view(RestockArgs(), RESTOCK_FIELDS, errors=restock_errors,
                           action=url_for(".restock", item_id=item_id), form_id="restock")
    html = render_template("console/mall_item.html", title=f"商品 {found.name}", form=editing, item=found,
                           restock=restocking, stock_left=items.remaining_stock(found), back=url_for(".index"))
    return html, 422 if errors or restock_errors else 200


@blp.post("/mall/items/<int:item_id>")
def update(item_id):
    def updated(args):
        saved = items.update_item(item_id, **args)
        return flash_and_redirect(f"已保存商品 {saved.name}", ".index")

    return submit(lambda: ItemPatchSchema().load(read(ItemPatchSchema(), ITEM_FIELDS)), updated,
                  lambda errors: item(item_id, errors))


@blp.post("/mall/items/<int:item_id>/on-sale", defaults={"active": True})
@blp.post("/mall/items/<int:item_id>/off-sale", defaults={"active": False})
def set_on_sale(item_id, active):
    saved = items.update_item(item_id, active=active)
    return flash_and_redirect(f"{saved.name} 已{'上架' if active else '下架'}", ".index")


@blp.post("/mall/items/<int:item_id>/restock")
def restock(item_id):
    def restocked(args):
        saved = items.restock(item_id, args["delta"])
        return flash_and_redirect(f"{saved.name} 库存已调整为 {saved.stock}", ".item", item_id=item_id)

    return submit(lambda: RestockArgs().load(read(RestockArgs(), RESTOCK_FIELDS)), restocked,
                  lambda errors: item(item_id, restock_errors=errors), {MallError.STOCK_BELOW_ZERO: "delta"})
