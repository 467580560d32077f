"""积分商城 · 兑换订单: every redemption, newest first, by state; a physical order is shipped
(carrier and tracking number: the member gets a message) or cancelled (points and stock come
back). The admin API's service and schemas (app/api/admin_mall.py)."""
from flask import render_template, request, url_for

from app.api.console.config_forms import CHOICE_NAMES, Field, form_view, read, submit
from app.api.console.numbers_display import query_args
from app.api.console.pages import actor, flash_and_redirect, page_blueprint
from app.api.mall_order_schemas import AdminOrderArgs, ShipmentArgs
from app.api.mall_schemas import OptionalReasonArgs
from app.api.pagination import page
from app.mall import redemption
from app.mall.models import AWAITING_SHIPMENT, CANCELLED, COMPLETED, SHIPPED

blp = page_blueprint("console_mall_orders", __name__)
PAGE_SIZE = 50
STATES = (AWAITING_SHIPMENT, SHIPPED, COMPLETED, CANCELLED)
SHIP_FIELDS = [Field("carrier", "快递公司"), Field("tracking_no", "运单号")]
CANCEL_FIELDS = [Field("reason", "取消原因")]


@blp.get("/mall/orders")
def index(refused_order=None, ship_errors=None, cancel_errors=None):
    args = query_args(AdminOrderArgs)
    state = args.get("state")
    listed = page(redemption.orders_page(args.get("cursor"), PAGE_SIZE + 1, state=state), PAGE_SIZE)

    def forms(order_id: int) -> dict:
        mine = order_id == refused_order
        return {"ship": form_view(ShipmentArgs(), SHIP_FIELDS, errors=ship_errors if mine else None,
                                  action=url_for(".ship", order_id=order_id, state=state), form_id=f"ship-{order_id}"),
                "cancel": form_view(OptionalReasonArgs(), CANCEL_FIELDS, errors=cancel_errors if mine else None,
                                    action=url_for(".cancel", order_id=order_id, state=state),
                                    form_id=f"cancel-{order_id}")}

    html = render_template("console/mall_orders.html", **listed, state=state, states=STATES, choice_names=CHOICE_NAMES,
                           awaiting=AWAITING_SHIPMENT, forms_by_order={
                               order.id: forms(order.id) for order in listed["items"]
                               if order.state == AWAITING_SHIPMENT})
    return html, 422 if ship_errors or cancel_errors else 200


def _back(message: str):
    return flash_and_redirect(message, ".index", state=request.args.get("state") or None)


@blp.post("/mall/orders/<int:order_id>/ship")
def ship(order_id):
    def shipped(args):
        redemption.ship_order(order_id, args["carrier"], args["tracking_no"])
        return _back(f"订单 {order_id} 已发货")

    return submit(lambda: ShipmentArgs().load(read(ShipmentArgs(), SHIP_FIELDS)), shipped,
                  lambda errors: index(order_id, ship_errors=errors))


@blp.post("/mall/orders/<int:order_id>/cancel")
def cancel(order_id):
    def cancelled(args):
        redemption.cancel_order(order_id, actor=actor(), reason=args.get("reason"))
        return _back(f"订单 {order_id} 已取消，积分与库存已退回")

    return submit(lambda: OptionalReasonArgs().load(read(OptionalReasonArgs(), CANCEL_FIELDS)), cancelled,
                  lambda errors: index(order_id, cancel_errors=errors))
