"""The mini-program's mall: items for points, orders, the member's coupons, store codes."""
from flask import g

from app.api.blueprint import Blueprint
from app.api.idempotency import mutation
from app.api.images import qr_png_response
from app.api.mall_order_schemas import (
    MemberCategorySchema,
    OfferListArgs,
    OfferPageSchema,
    OfferSchema,
    OrderPageSchema,
    OrderSchema,
    RedeemArgs,
)
from app.api.mall_schemas import (
    CouponDetailSchema,
    CouponListArgs,
    CouponPageSchema,
    OptionalReasonArgs,
    TemplateRefArgs,
    VisitArgs,
    VisitSchema,
)
from app.api.pagination import page, page_schema, whole
from app.api.principals import require
from app.api.schemas import MAX_ID, CursorArgs
from app.errors import CouponError, MallError, PointsError, StoreVisitError
from app.mall import coupons, items, redemption, store_coupons
from app.points.service import summary
from app.security import MEMBER

blp = Blueprint("member_mall", __name__, url_prefix="/api/v1/member",
                description="The points mall, coupons and store codes (member token)")
blp.before_request(require(MEMBER))


@blp.route("/mall/categories")
@blp.response(200, page_schema(MemberCategorySchema))
def list_categories():
    """The mall's tabs that have something on sale now, in the operators' order (a handful: one page)."""
    return whole(items.member_categories())


@blp.route("/mall/items")
@blp.arguments(OfferListArgs, location="query")
@blp.response(200, OfferPageSchema)
def list_items(args):
    """Items on sale, newest first, all or one category's: each with today's price for the caller and
    whether they may redeem it; if not, `reason` is the error code a redemption would answer and
    `reason_text` its message."""
    found = items.member_offers(g.principal, summary(g.principal).usable, args.get("cursor"), args["limit"] + 1,
                                category_id=args.get("category_id"))
    return page(found, args["limit"])


@blp.route("/mall/items/<int:item_id>")
@blp.errors(MallError.ITEM_NOT_FOUND)
@blp.response(200, OfferSchema)
def get_item(item_id):
    return items.member_offer(g.principal, item_id, summary(g.principal).usable)


@blp.route("/mall/orders", methods=["POST"])
@blp.errors(PointsError.POINTS_INSUFFICIENT, CouponError.COUPON_TEMPLATE_CLOSED, CouponError.COUPON_SOLD_OUT,
            CouponError.COUPON_LIMIT_REACHED, MallError.ITEM_NOT_FOUND, MallError.ITEM_SALE_NOT_STARTED,
            MallError.ITEM_SALE_ENDED, MallError.ITEM_MEMBER_DAY_ONLY, MallError.ITEM_TIER_REQUIRED,
            MallError.ITEM_OUT_OF_STOCK, MallError.ITEM_LIMIT_REACHED, MallError.ADDRESS_REQUIRED)
@mutation
@blp.arguments(RedeemArgs)
@blp.response(201, OrderSchema)
def redeem(args):
    """Redeem an item for points (send an Idempotency-Key). All or nothing: on any
    refusal no points, stock or coupon are taken."""
    return redemption.redeem(g.principal.id, args["item_id"], args.get("ship_to"))


@blp.route("/mall/orders")
@blp.arguments(CursorArgs, location="query")
@blp.response(200, OrderPageSchema)
def list_orders(args):
    found = redemption.orders_page(args.get("cursor"), args["limit"] + 1, member_id=g.principal.id)
    return page(found, args["limit"])


@blp.route(f"/mall/orders/<int(max={MAX_ID}):order_id>")
@blp.errors(MallError.MALL_ORDER_NOT_FOUND)
@blp.response(200, OrderSchema)
def get_order(order_id):
    return redemption.member_order(g.principal.id, order_id)


@blp.route(f"/mall/orders/<int(max={MAX_ID}):order_id>/cancel", methods=["POST"])
@blp.errors(MallError.MALL_ORDER_NOT_FOUND, MallError.MALL_ORDER_NOT_CANCELLABLE)
@mutation
@blp.arguments(OptionalReasonArgs)
@blp.response(200, OrderSchema)
def cancel_order(args, order_id):
    """Cancel a physical order that has not shipped: the points (with their original
    expiry dates) and the stock come back, once."""
    return redemption.cancel_order(order_id, actor=f"member:{g.principal.id}", reason=args.get("reason"),
                                   member_id=g.principal.id)


@blp.route("/coupons")
@blp.arguments(CouponListArgs, location="query")
@blp.response(200, CouponPageSchema)
def list_coupons(args):
    """The caller's coupons in one tab (valid, used, expired, voided), soonest-expiring first."""
    found = coupons.member_coupons(g.principal.id, args["status"], args.get("cursor"), args["limit"] + 1)
    return page(found, args["limit"])


@blp.route(f"/coupons/<int(max={MAX_ID}):coupon_id>")
@blp.errors(CouponError.COUPON_NOT_FOUND)
@blp.response(200, CouponDetailSchema)
def get_coupon(coupon_id):
    """One of the caller's coupons, with the code to show in a store."""
    return coupons.member_coupon(g.principal.id, coupon_id)


@blp.route(f"/coupons/<int(max={MAX_ID}):coupon_id>/qr.png")
@blp.errors(CouponError.COUPON_NOT_FOUND)
@blp.response(200, description="The coupon's code as a QR image (PNG)", content_type="image/png")
def coupon_qr(coupon_id):
    return qr_png_response(coupons.member_coupon(g.principal.id, coupon_id).code)


@blp.route("/store-visits", methods=["POST"])
@blp.errors(StoreVisitError.STORE_SCENE_INVALID)
@mutation
@blp.arguments(VisitArgs)
@blp.response(201, VisitSchema)
def open_store_code(args):
    """The member opened a store's mini-program code (its `scene`): attributed to the
    store (the first store becomes the home store, kept), and shown the store's coupons."""
    return store_coupons.open_store_code(g.principal.id, args["scene"])


@blp.route("/stores/<int:store_id>/coupon-claims", methods=["POST"])
@blp.errors(CouponError.COUPON_TEMPLATE_NOT_FOUND, CouponError.COUPON_TEMPLATE_CLOSED, CouponError.COUPON_SOLD_OUT,
            CouponError.COUPON_LIMIT_REACHED, StoreVisitError.STORE_NOT_VISITED, StoreVisitError.STORE_OFFER_NOT_FOUND)
@mutation
@blp.arguments(TemplateRefArgs)
@blp.response(201, CouponDetailSchema)
def claim_store_coupon(args, store_id):
    """Claim a store's coupon after opening its code; the coupon's limits apply."""
    return store_coupons.claim(g.principal.id, store_id, args["template_id"])
