"""Operators: RFM layers (counts and trend) and segments with their live count."""
from flask import g

from app.api.blueprint import Blueprint
from app.api.idempotency import mutation
from app.api.layer_schemas import (
    LayersNowSchema,
    SegmentCountSchema,
    SegmentPageSchema,
    SegmentPreviewArgs,
    SegmentSchema,
    TrendArgs,
    TrendSchema,
)
from app.api.pagination import page
from app.api.principals import require
from app.api.schemas import IntegerIdCursorArgs
from app.errors import CampaignError
from app.layers import segments, trend
from app.security import ADMIN

blp = Blueprint("admin_layers", __name__, url_prefix="/api/v1/admin",
                description="RFM layers and segments (admin token)")
blp.before_request(require(ADMIN))


@blp.route("/layers")
@blp.response(200, LayersNowSchema)
def layers_now():
    """Members per layer as of the last RFM run (高价值, 潜力, 新客, 流失预警, 沉睡)."""
    return trend.layers_now()


@blp.route("/layers/trend")
@blp.arguments(TrendArgs, location="query")
@blp.response(200, TrendSchema)
def layers_trend(args):
    """Members per run day, layer and tier over the last `days` days; with `tier_id`, churn by tier."""
    return {"points": trend.trend(args["days"], args.get("tier_id"))}


@blp.route("/segments/preview", methods=["POST"])
@mutation
@blp.arguments(SegmentPreviewArgs)
@blp.response(200, SegmentCountSchema)
def preview_segment(args):
    """How many members match these conditions now (nothing is saved)."""
    return {"members": segments.count(segments.check(args["conditions"]))}


@blp.route("/segments", methods=["POST"])
@mutation
@blp.arguments(SegmentSchema)
@blp.response(201, SegmentSchema)
def create_segment(args):
    return segments.create_segment(args["name"], args["conditions"], actor=g.scope)


@blp.route("/segments")
@blp.arguments(IntegerIdCursorArgs, location="query")
@blp.response(200, SegmentPageSchema)
def list_segments(args):
    return page(segments.segments_page(args.get("cursor"), args["limit"] + 1), args["limit"])


@blp.route("/segments/<int:segment_id>")
@blp.errors(CampaignError.SEGMENT_NOT_FOUND)
@blp.response(200, SegmentSchema)
def get_segment(segment_id):
    return segments.get_segment(segment_id)


@blp.route("/segments/<int:segment_id>/count")
@blp.errors(CampaignError.SEGMENT_NOT_FOUND)
@blp.response(200, SegmentCountSchema)
def count_segment(segment_id):
    """How many members the saved segment matches now."""
    return {"members": segments.count(segments.get_segment(segment_id).conditions)}
