"""积分商城 · 优惠券模板 and 门店领券: coupon templates (create; rename, stop and restart issuing)
and the templates each store's code offers. The admin API's services and schemas
(app/api/admin_mall.py): a template's value, validity and limits are fixed once created."""
from flask import render_template, url_for

from app.api.console.config_forms import CHOICE_NAMES, Field, form_view, read, submit
from app.api.console.forms import page_args
from app.api.console.pages import flash_and_redirect, page_blueprint
from app.api.mall_schemas import CouponTemplateSchema, TemplatePatchSchema, TemplateRefArgs
from app.api.pagination import page
from app.mall import coupons, store_coupons
from app.stores import service as stores

blp = page_blueprint("console_mall_coupons", __name__)
PAGE_SIZE = 50
_FEN = "单位：分（2000 即 20 元）"
TEMPLATE_FIELDS = [
    Field("name", "名称"),
    Field("kind", "类型"),
    Field("amount_off_fen", "减免金额", hint=f"立减券、满减券；{_FEN}"),
    Field("threshold_fen", "使用门槛", hint=f"满减券：订单满多少可用；{_FEN}"),
    Field("percent_off", "折扣（减 %）", hint="折扣券：如 20 即 8 折"),
    Field("max_off_fen", "最多减免", hint=f"折扣券封顶，空：不封顶；{_FEN}"),
    Field("gift_name", "礼品名称", hint="礼品券"),
    Field("valid_days", "领取后有效天数", hint="含领取当天；与下面的固定日期二选一"),
    Field("valid_from", "有效期开始"),
    Field("valid_until", "有效期结束"),
    Field("total_limit", "发放总量", hint="空：不限"),
    Field("per_member_limit", "每人限领", hint="空：不限"),
    Field("store_ids", "适用门店", choices="stores", hint="不选：全部门店"),
    Field("active", "发放中"),
]
OFFER_FIELDS = [Field("template_id", "优惠券模板", choices="templates")]


def _template_choices() -> list:
    return [(template.id, template.name) for template in coupons.all_templates()]


@blp.get("/mall/coupons")
def index(errors=None):
    cursor, _ = page_args()
    creating = form_view(CouponTemplateSchema(), TEMPLATE_FIELDS, errors=errors,
                         choices={"stores": [(store.id, store.name) for store in stores.all_stores()]},
                         action=url_for(".create"), form_id="create-template")
    html = render_template("console/mall_coupons.html", form=creating, choice_names=CHOICE_NAMES,
                           **page(coupons.templates_page(cursor, PAGE_SIZE + 1), PAGE_SIZE), describe=coupons.describe)
    return html, 422 if errors else 200


@blp.post("/mall/coupons")
def create():
    def created(args):
        template = coupons.create_template(**args)
        return flash_and_redirect(f"已添加优惠券模板 {template.name}", ".index")

    return submit(lambda: CouponTemplateSchema().load(read(CouponTemplateSchema(), TEMPLATE_FIELDS)), created, index)


@blp.get("/mall/coupons/<int:template_id>")
def template(template_id, errors=None):
    found = coupons.get_template(template_id)
    editing = form_view(TemplatePatchSchema(), TEMPLATE_FIELDS, found, errors,
                        action=url_for(".update", template_id=template_id), form_id="edit-template")
    html = render_template("console/config_edit.html", title=f"优惠券模板 {found.name}（{coupons.describe(found)}）",
                           form=editing, back=url_for(".index"))
    return html, 422 if errors else 200


@blp.post("/mall/coupons/<int:template_id>")
def update(template_id):
    def updated(args):
        saved = coupons.update_template(template_id, **args)
        return flash_and_redirect(f"已保存优惠券模板 {saved.name}", ".index")

    return submit(lambda: TemplatePatchSchema().load(read(TemplatePatchSchema(), TEMPLATE_FIELDS)), updated,
                  lambda errors: template(template_id, errors))


# --- the templates a store's code offers -------------------------------------------------


@blp.get("/mall/offers")
def offers(refused_store=None, errors=None):
    choices = {"templates": _template_choices()}
    listed = [(store, store_coupons.store_offers(store.id),
               form_view(TemplateRefArgs(), OFFER_FIELDS, errors=errors if store.id == refused_store else None,
                         choices=choices, action=url_for(".add_offer", store_id=store.id),
                         form_id=f"add-offer-{store.id}"))
              for store in stores.all_stores()]
    return render_template("console/mall_offers.html", stores=listed, describe=coupons.describe), 422 if errors else 200


@blp.post("/mall/offers/<int:store_id>")
def add_offer(store_id):
    def added(args):
        store_coupons.add_offer(store_id, args["template_id"])
        return flash_and_redirect("已添加门店领券", ".offers")

    return submit(lambda: TemplateRefArgs().load(read(TemplateRefArgs(), OFFER_FIELDS)), added,
                  lambda errors: offers(store_id, errors))


@blp.post("/mall/offers/<int:store_id>/<int:template_id>/remove")
def remove_offer(store_id, template_id):
    store_coupons.remove_offer(store_id, template_id)
    return flash_and_redirect("已移除门店领券", ".offers")
