"""Operators: coupon templates and grants, mall items and orders, store codes, numbers."""
from flask import g

from app.api.blueprint import Blueprint
from app.api.idempotency import mutation
from app.api.images import png_response
from app.api.mall_order_schemas import (
    AdminOrderArgs,
    AdminOrderPageSchema,
    AdminOrderSchema,
    CategoryPatchSchema,
    CategorySchema,
    ItemPageSchema,
    ItemPatchSchema,
    ItemSchema,
    NumbersArgs,
    NumbersSchema,
    RestockArgs,
    ShipmentArgs,
)
from app.api.mall_schemas import (
    AdminCouponSchema,
    CouponDetailSchema,
    CouponTemplateSchema,
    GrantArgs,
    OptionalReasonArgs,
    ReasonArgs,
    StoreOfferSchema,
    TemplatePatchSchema,
    TemplateRefArgs,
)
from app.api.pagination import page, page_schema, whole
from app.api.principals import require
from app.api.schemas import MAX_ID, IntegerIdCursorArgs
from app.errors import CouponError, MallError, MemberError, StoreError, StoreVisitError, WechatError
from app.mall import categories, coupons, items, numbers, redemption, store_coupons
from app.mall.models import FROM_GRANT
from app.security import ADMIN
from app.stores.qr import store_code_png

blp = Blueprint("admin_mall", __name__, url_prefix="/api/v1/admin", description="The mall (admin token)")
blp.before_request(require(ADMIN))


@blp.route("/coupon-templates")
@blp.arguments(IntegerIdCursorArgs, location="query")
@blp.response(200, page_schema(CouponTemplateSchema))
def list_templates(args):
    """The coupon templates, newest first."""
    return page(coupons.templates_page(args.get("cursor"), args["limit"] + 1), args["limit"])


@blp.route("/coupon-templates", methods=["POST"])
@blp.errors(StoreError.STORE_NOT_FOUND)
@mutation
@blp.arguments(CouponTemplateSchema)
@blp.response(201, CouponTemplateSchema)
def create_template(args):
    return coupons.create_template(**args)


@blp.route("/coupon-templates/<int:template_id>")
@blp.errors(CouponError.COUPON_TEMPLATE_NOT_FOUND)
@blp.response(200, CouponTemplateSchema)
def get_template(template_id):
    return coupons.get_template(template_id)


@blp.route("/coupon-templates/<int:template_id>", methods=["PATCH"])
@blp.errors(CouponError.COUPON_TEMPLATE_NOT_FOUND)
@mutation
@blp.arguments(TemplatePatchSchema)
@blp.response(200, CouponTemplateSchema)
def update_template(args, template_id):
    """Rename, or stop (active=false) and restart issuing. Value, validity and limits are fixed."""
    return coupons.update_template(template_id, **args)


@blp.route("/coupon-templates/<int:template_id>/grants", methods=["POST"])
@blp.errors(MemberError.MEMBER_NOT_FOUND, CouponError.COUPON_TEMPLATE_NOT_FOUND, CouponError.COUPON_TEMPLATE_CLOSED,
            CouponError.COUPON_SOLD_OUT, CouponError.COUPON_LIMIT_REACHED)
@mutation
@blp.arguments(GrantArgs)
@blp.response(201, CouponDetailSchema)
def grant(args, template_id):
    """Give a member a coupon, with a reason; the template's limits apply."""
    return coupons.issue_coupon(template_id, args["member_id"], FROM_GRANT, actor=g.scope,
                                ref=f"grant:{g.scope}", reason=args["reason"])


@blp.route(f"/coupons/<int(max={MAX_ID}):coupon_id>")
@blp.errors(CouponError.COUPON_NOT_FOUND)
@blp.response(200, AdminCouponSchema)
def get_coupon(coupon_id):
    """A coupon with its whole history: every state change with who, where, when and why."""
    return coupons.get_coupon(coupon_id)


@blp.route(f"/coupons/<int(max={MAX_ID}):coupon_id>/void", methods=["POST"])
@blp.errors(CouponError.COUPON_NOT_FOUND, CouponError.COUPON_NOT_VOIDABLE)
@mutation
@blp.arguments(ReasonArgs)
@blp.response(200, CouponDetailSchema)
def void_coupon(args, coupon_id):
    """Withdraw an unused coupon, with a reason."""
    return coupons.void_coupon(coupon_id, actor=g.scope, reason=args["reason"])


@blp.route("/mall-categories")
@blp.response(200, page_schema(CategorySchema))
def list_categories():
    """The mall's categories in the members' order (a handful: one page)."""
    return whole(categories.all_categories())


@blp.route("/mall-categories", methods=["POST"])
@mutation
@blp.arguments(CategorySchema)
@blp.response(201, CategorySchema)
def create_category(args):
    return categories.create_category(**args)


@blp.route("/mall-categories/<int:category_id>", methods=["PATCH"])
@blp.errors(MallError.CATEGORY_NOT_FOUND)
@mutation
@blp.arguments(CategoryPatchSchema)
@blp.response(200, CategorySchema)
def update_category(args, category_id):
    """Rename or reorder a category."""
    return categories.update_category(category_id, **args)


@blp.route("/mall-categories/<int:category_id>", methods=["DELETE"])
@blp.errors(MallError.CATEGORY_NOT_FOUND, MallError.CATEGORY_IN_USE)
@mutation
@blp.response(204)
def delete_category(category_id):
    """Delete a category without items (409 CATEGORY_IN_USE otherwise: move its items first)."""
    categories.delete_category(category_id)


@blp.route("/mall-items")
@blp.arguments(IntegerIdCursorArgs, location="query")
@blp.response(200, ItemPageSchema)
def list_items(args):
    return page(items.items_page(args.get("cursor"), args["limit"] + 1), args["limit"])


@blp.route("/mall-items", methods=["POST"])
@blp.errors(CouponError.COUPON_TEMPLATE_NOT_FOUND, MallError.CATEGORY_NOT_FOUND)
@mutation
@blp.arguments(ItemSchema)
@blp.response(201, ItemSchema)
def create_item(args):
    return items.create_item(**args)


@blp.route("/mall-items/<int:item_id>", methods=["PATCH"])
@blp.errors(MallError.ITEM_NOT_FOUND, MallError.CATEGORY_NOT_FOUND)
@mutation
@blp.arguments(ItemPatchSchema)
@blp.response(200, ItemSchema)
def update_item(args, item_id):
    return items.update_item(item_id, **args)


@blp.route("/mall-items/<int:item_id>/restocks", methods=["POST"])
@blp.errors(MallError.ITEM_NOT_FOUND, MallError.STOCK_BELOW_ZERO)
@mutation
@blp.arguments(RestockArgs)
@blp.response(200, ItemSchema)
def restock(args, item_id):
    """Add (or, negative, withdraw) stock relative to what is left; never below zero (422
    STOCK_BELOW_ZERO, with the stock left and the delta refused)."""
    return items.restock(item_id, args["delta"])


@blp.route("/mall-orders")
@blp.arguments(AdminOrderArgs, location="query")
@blp.response(200, AdminOrderPageSchema)
def list_orders(args):
    """Orders newest first, all or in one state; addresses with the phone masked."""
    found = redemption.orders_page(args.get("cursor"), args["limit"] + 1, state=args.get("state"))
    return page(found, args["limit"])


@blp.route(f"/mall-orders/<int(max={MAX_ID}):order_id>")
@blp.errors(MallError.MALL_ORDER_NOT_FOUND)
@blp.response(200, AdminOrderSchema)
def get_order(order_id):
    """One order, its address whole (the lists mask the phone): what shipping it needs."""
    return redemption.get_order(order_id)


@blp.route(f"/mall-orders/<int(max={MAX_ID}):order_id>/shipments", methods=["POST"])
@blp.errors(MallError.MALL_ORDER_NOT_FOUND, MallError.MALL_ORDER_NOT_SHIPPABLE)
@mutation
@blp.arguments(ShipmentArgs)
@blp.response(200, AdminOrderSchema)
def ship_order(args, order_id):
    """Mark a physical order shipped; the member gets a message (outbox `order_shipped`)."""
    return redemption.ship_order(order_id, args["carrier"], args["tracking_no"])


@blp.route(f"/mall-orders/<int(max={MAX_ID}):order_id>/cancel", methods=["POST"])
@blp.errors(MallError.MALL_ORDER_NOT_FOUND, MallError.MALL_ORDER_NOT_CANCELLABLE)
@mutation
@blp.arguments(OptionalReasonArgs)
@blp.response(200, AdminOrderSchema)
def cancel_order(args, order_id):
    """Cancel a physical order that has not shipped: points and stock come back, once."""
    return redemption.cancel_order(order_id, actor=g.scope, reason=args.get("reason"))


@blp.route("/mall/numbers")
@blp.arguments(NumbersArgs, location="query")
@blp.response(200, NumbersSchema)
def mall_numbers(args):
    return numbers.mall_numbers(args["start"], args["end"])


@blp.route("/stores/<int:store_id>/qr.png")
@blp.errors(StoreError.STORE_NOT_FOUND, WechatError.WECHAT_UNAVAILABLE, WechatError.WECHAT_ERROR)
@blp.response(200, description="The store's mini-program code (PNG) to print", content_type="image/png")
def store_code(store_id):
    return png_response(store_code_png(store_id))


@blp.route("/stores/<int:store_id>/coupon-offers")
@blp.response(200, page_schema(StoreOfferSchema))
def list_store_offers(store_id):
    """The templates this store's code offers (a store's handful: one page)."""
    return whole(store_coupons.store_offers(store_id))


@blp.route("/stores/<int:store_id>/coupon-offers", methods=["POST"])
@blp.errors(StoreError.STORE_NOT_FOUND, CouponError.COUPON_TEMPLATE_NOT_FOUND)
@mutation
@blp.arguments(TemplateRefArgs)
@blp.response(201, page_schema(StoreOfferSchema))
def add_store_offer(args, store_id):
    """Let members who open this store's code claim the template's coupons; answers the store's offers."""
    return whole(store_coupons.add_offer(store_id, args["template_id"]))


@blp.route("/stores/<int:store_id>/coupon-offers/<int:template_id>", methods=["DELETE"])
@blp.errors(StoreVisitError.STORE_OFFER_NOT_FOUND)
@mutation
@blp.response(204)
def remove_store_offer(store_id, template_id):
    store_coupons.remove_offer(store_id, template_id)
