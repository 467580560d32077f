"""Operators: campaigns (create, preview, dry run, launch, results) and the churn recall."""
from flask import g

from app.api.blueprint import Blueprint
from app.api.campaign_schemas import (
    CampaignPageSchema,
    CampaignPreviewSchema,
    CampaignResultsSchema,
    CampaignSchema,
    RecallSettingSchema,
)
from app.api.idempotency import mutation
from app.api.pagination import page
from app.api.principals import require
from app.api.schemas import IntegerIdCursorArgs
from app.campaigns import results, service
from app.errors import CampaignError, CouponError
from app.security import ADMIN

blp = Blueprint("admin_campaigns", __name__, url_prefix="/api/v1/admin",
                description="Campaigns with a holdout group, and the churn recall (admin token)")
blp.before_request(require(ADMIN))


@blp.route("/campaigns", methods=["POST"])
@blp.errors(CouponError.COUPON_TEMPLATE_NOT_FOUND, CampaignError.SEGMENT_NOT_FOUND)
@mutation
@blp.arguments(CampaignSchema)
@blp.response(201, CampaignSchema)
def create_campaign(args):
    """A draft: its segment, its action (a coupon, points and/or a message), start, holdout and response window."""
    return service.create_campaign(actor=g.scope, **args)


@blp.route("/campaigns")
@blp.arguments(IntegerIdCursorArgs, location="query")
@blp.response(200, CampaignPageSchema)
def list_campaigns(args):
    return page(service.campaigns_page(args.get("cursor"), args["limit"] + 1), args["limit"])


@blp.route("/campaigns/<int:campaign_id>")
@blp.errors(CampaignError.CAMPAIGN_NOT_FOUND)
@blp.response(200, CampaignSchema)
def get_campaign(campaign_id):
    return service.get_campaign(campaign_id)


@blp.route("/campaigns/<int:campaign_id>/preview")
@blp.errors(CampaignError.SEGMENT_NOT_FOUND, CampaignError.CAMPAIGN_NOT_FOUND)
@blp.response(200, CampaignPreviewSchema)
def preview_campaign(campaign_id):
    """How the segment splits now between the campaign and its holdout."""
    return service.preview(campaign_id)


@blp.route("/campaigns/<int:campaign_id>/dry-run")
@blp.errors(CampaignError.SEGMENT_NOT_FOUND, CampaignError.CAMPAIGN_NOT_FOUND)
@blp.response(200, CampaignPreviewSchema)
def dry_run_campaign(campaign_id):
    """The preview with a random sample of members and the group each is in. Nothing is written."""
    return service.preview(campaign_id, sample=True)


@blp.route("/campaigns/<int:campaign_id>/launch", methods=["POST"])
@blp.errors(CampaignError.CAMPAIGN_NOT_FOUND)
@mutation
@blp.response(200, CampaignSchema)
def launch_campaign(campaign_id):
    """Launch once (again, or two operators at once: the same launch). The launch job assigns the
    segment's members and reaches the campaign group from `starts_at`, in batches."""
    return service.launch(campaign_id, actor=g.scope)


@blp.route("/campaigns/<int:campaign_id>/results")
@blp.errors(CampaignError.CAMPAIGN_NOT_FOUND)
@blp.response(200, CampaignResultsSchema)
def campaign_results(campaign_id):
    """Reached, messages, coupons used, and purchases within the response window against the holdout."""
    return results.results(campaign_id)


@blp.route("/churn-recall")
@blp.response(200, RecallSettingSchema)
def get_recall():
    return service.recall_setting()


@blp.route("/churn-recall", methods=["PUT"])
@blp.errors(CampaignError.CAMPAIGN_NOT_FOUND)
@mutation
@blp.arguments(RecallSettingSchema)
@blp.response(200, RecallSettingSchema)
def put_recall(args):
    """When enabled, members who move into 流失预警 in an RFM run join this campaign."""
    return service.set_recall(args["campaign_id"], args["enabled"], actor=g.scope)
