"""The overview (a placeholder until the dashboard's numbers) and logging out."""
from flask import g, redirect, render_template, url_for

from app.console import session
from app.console.pages import page_blueprint
from app.members import tiers
from app.operators.roles import own_session

blp = page_blueprint("console_home", __name__)


@blp.get("/")
def index():
    counts = tiers.members_per_tier()
    chart = {  # an ECharts option, drawn by static/console.js
        "tooltip": {"renderMode": "richText"},
        "xAxis": {"type": "category", "data": [tier.name for tier, _ in counts]},
        "yAxis": {"type": "value", "minInterval": 1},
        "series": [{"name": "会员数", "type": "bar", "data": [count for _, count in counts]}],
    }
    return render_template("console/dashboard.html", counts=counts, chart=chart)


@blp.post("/logout")
@own_session
def logout():
    session.log_out(g.principal)
    return redirect(url_for("console.login"), code=303)
