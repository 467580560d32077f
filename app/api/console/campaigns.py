"""活动: campaigns with a holdout (create, preview, dry run, launch, results) and the churn recall."""
from flask import render_template, request
from marshmallow import ValidationError

from app.api.campaign_schemas import CampaignSchema
from app.api.console import layer_forms
from app.api.console.forms import page_args, positive_int
from app.api.console.pages import actor, flash_and_redirect, page_blueprint
from app.api.pagination import page
from app.campaigns import results, service
from app.layers import segments
from app.mall.coupons import all_templates

blp = page_blueprint("console_campaigns", __name__)
PAGE_SIZE = 50


@blp.get("/campaigns")
def index(form_errors=None, status=200):
    cursor, _ = page_args()
    return render_template(
        "console/campaigns.html", **page(service.campaigns_page(cursor, PAGE_SIZE + 1), PAGE_SIZE),
        segments=segments.segments_page(None, 100), templates=all_templates(), recall=service.recall_setting(),
        form=request.form, form_errors=form_errors or {}), status


@blp.post("/campaigns")
def create():
    try:
        args = CampaignSchema().load(layer_forms.campaign())
    except ValidationError as error:
        return index(form_errors=error.messages, status=422)
    campaign = service.create_campaign(actor=actor(), **args)
    return flash_and_redirect(f"已创建活动 {campaign.name}", ".show", campaign_id=campaign.id)


@blp.get("/campaigns/<int:campaign_id>")
def show(campaign_id):
    dry_run = request.args.get("dry_run") == "1"
    return render_template("console/campaign.html", campaign=service.get_campaign(campaign_id),
                           preview=service.preview(campaign_id, sample=dry_run), dry_run=dry_run,
                           results=results.results(campaign_id))


@blp.post("/campaigns/<int:campaign_id>/launch")
def launch(campaign_id):
    campaign = service.launch(campaign_id, actor=actor())
    return flash_and_redirect(f"活动 {campaign.name} 已发布：从开始时间起分批触达", ".show", campaign_id=campaign_id)


@blp.post("/campaigns/recall")
def set_recall():
    campaign_id = positive_int(request.form.get("campaign_id"), "campaign_id")
    service.set_recall(campaign_id, "enabled" in request.form, actor=actor())
    return flash_and_redirect("流失召回设置已保存", ".index")
