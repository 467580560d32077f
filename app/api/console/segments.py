"""人群: segments defined by conditions, with a live count (htmx) as the form changes."""
from flask import render_template, request
from marshmallow import ValidationError

from app.api.console import layer_forms
from app.api.console.forms import page_args
from app.api.console.pages import actor, flash_and_redirect, page_blueprint
from app.api.layer_schemas import ConditionsSchema, SegmentSchema
from app.api.pagination import page
from app.errors import AppError
from app.layers import segments
from app.layers.models import LAYERS
from app.members import tiers
from app.stores import service as stores

blp = page_blueprint("console_segments", __name__)
PAGE_SIZE = 50


@blp.get("/segments")
def index(form_errors=None, status=200):
    cursor, _ = page_args()
    listed = page(segments.segments_page(cursor, PAGE_SIZE + 1), PAGE_SIZE)
    counts = {segment.id: segments.count(segment.conditions) for segment in listed["items"]}
    return render_template("console/segments.html", **listed, counts=counts, layers=LAYERS,
                           tiers=tiers.all_tiers(), stores=stores.all_stores(), form=request.form,
                           form_errors=form_errors or {}), status


@blp.get("/segments/count")
def live_count():
    """The fragment htmx swaps in: how many members the form's conditions match now."""
    try:
        conditions = segments.check(ConditionsSchema().load(layer_forms.conditions(request.args)))
    except ValidationError as error:
        return render_template("console/segment_count.html", members=None, errors=error.messages)
    except AppError as error:  # a rule across conditions (app/layers/segments.check)
        return render_template("console/segment_count.html", members=None, errors=error.details.get("fields", {}))
    return render_template("console/segment_count.html", members=segments.count(conditions), errors={})


@blp.post("/segments")
def create():
    try:
        args = SegmentSchema().load({"name": request.form.get("name", ""), "conditions": layer_forms.conditions()})
    except ValidationError as error:
        return index(form_errors=error.messages, status=422)
    segment = segments.create_segment(args["name"], args["conditions"], actor=actor())
    return flash_and_redirect(f"已保存人群 {segment.name}", ".index")
