"""The baseline endpoint of bench/card_read, served only by the benchmarks (bench/wsgi_bench.py).

It does the least a real member endpoint can do, through the same stack (token check,
flask-smorest reply schema), so a benchmark can report its endpoint as a ratio of the
baseline measured in the same run.
"""
from flask import Flask, g
from marshmallow import Schema, fields

from app import create_app
from app.api.blueprint import Blueprint
from app.api.principals import require
from app.security import MEMBER

blp = Blueprint("bench", __name__, url_prefix="/api/v1/bench", description="Benchmark baselines (bench/ only)")
blp.before_request(require(MEMBER))


class BareMemberSchema(Schema):
    member_id = fields.Integer(attribute="id")
    points_balance = fields.Integer()


@blp.route("/member/bare")
@blp.response(200, BareMemberSchema)
def bare_member():
    """The member row by primary key (the token check's one SELECT) and nothing more."""
    return g.principal


def create_app_with_baseline(overrides: dict | None = None) -> Flask:
    """The app as wsgi.py builds it, plus the baseline endpoint (left out of the API's
    OpenAPI document: flask-smorest keeps one per process, the app's)."""
    app = create_app(overrides)
    app.register_blueprint(blp)
    return app
