"""会员: find members (phones masked), export the list as CSV, a member's page, and adjusting
their points with a reason. The same services as the admin API (app/api/admin_members.py)."""
import re

from flask import Response, render_template, request
from marshmallow import ValidationError

from app.api.console.forms import form_fields, page_args, positive_int
from app.api.console.pages import actor, flash_and_redirect, page_blueprint
from app.api.member import CARD_QUERY
from app.api.pagination import page
from app.api.schemas import AdjustmentArgs
from app.engagement import checkin, referral
from app.errors import invalid_field
from app.layers.models import LAYERS
from app.layers.rfm import layer_of
from app.layers.trend import last_run_day
from app.mall import coupons, redemption
from app.members import search, tiers
from app.members import service as members
from app.members.card import card_view
from app.messaging.service import messages_page
from app.points import service as ledger
from app.purchases import service as purchases

blp = page_blueprint("console_members", __name__)
PAGE_SIZE = 50
HISTORY_SIZE = 10  # rows of each history on the member's page (the ledger pages on)
QUERY_MAX = 64


def _filters() -> tuple[str | None, int | None]:
    q = request.args.get("q", "").strip() or None
    if q is not None and len(q) > QUERY_MAX:
        raise invalid_field("q", f"最多 {QUERY_MAX} 个字符")
    return q, positive_int(request.args.get("tier_id"), "tier_id", maximum=2**31 - 1)


@blp.get("/members")
def index():
    cursor, _ = page_args()
    q, tier_id = _filters()
    found = search.search(q, tier_id, cursor, PAGE_SIZE + 1)
    return render_template("console/members.html", **page(found, PAGE_SIZE), q=q or "", tier_id=tier_id,
                           tiers=tiers.all_tiers(), mask_phone=search.mask_phone)


@blp.get("/members/export.csv")
def export():
    """The filtered list as CSV, phones masked, streamed."""
    return Response(search.export_csv(*_filters()), mimetype="text/csv",
                    headers={"Content-Disposition": 'attachment; filename="members.csv"'})


def _recent(pages, member_id: int) -> list:
    return pages(member_id, None, HISTORY_SIZE)


@blp.get("/members/<int:member_id>")
def member(member_id, form_errors=None, status=200):
    found = members.get_member(member_id)
    ledger_cursor = positive_int(request.args.get("ledger_cursor"), "ledger_cursor")
    entries = page(ledger.entries_page(member_id, "points", ledger_cursor, PAGE_SIZE + 1), PAGE_SIZE)
    html = render_template(
        "console/member.html", member=found, card=card_view(found, CARD_QUERY), entries=entries,
        tier_changes=_recent(tiers.tier_changes_page, member_id), lots=_recent(ledger.open_lots_page, member_id),
        coupons=_recent(coupons.coupons_page, member_id), purchases=_recent(purchases.purchases_page, member_id),
        orders=redemption.orders_page(None, HISTORY_SIZE, member_id=member_id),
        checkins=_recent(checkin.checkins_page, member_id), referrals=_recent(referral.invitations_page, member_id),
        messages=messages_page(None, member_id, None, HISTORY_SIZE), phone=search.mask_phone(found.phone),
        layer=layer_of(member_id), layer_names=LAYERS, layer_day=last_run_day(),
        form_errors=form_errors or {}, form=request.form)
    return html, status


@blp.post("/members/<int:member_id>/points-adjustments")
def adjust_points(member_id):
    """The API's adjustment (one service, one rule): a reason, the operator named; never below zero."""
    fields = form_fields()
    if re.fullmatch(r"-?\d{1,10}", fields.get("delta", "")):  # a form sends text; the schema takes integers
        fields["delta"] = int(fields["delta"])
    try:
        args = AdjustmentArgs().load(fields)
    except ValidationError as error:
        return member(member_id, form_errors=error.messages, status=422)
    entry = ledger.adjust_points(member_id, args["delta"], actor=actor(), reason=args["reason"])
    return flash_and_redirect(f"已调整积分 {entry.delta:+d}", ".member", member_id=member_id)

