"""The audit log: every change operators made, newest first, filtered; one entry in full."""
from flask import render_template

from app.api.console.forms import iso_day, page_args, positive_int
from app.api.console.pages import page_blueprint
from app.api.pagination import page
from app.audit import queries as audit
from app.operators import service as operators

blp = page_blueprint("console_audit", __name__)
PAGE_SIZE = 50


@blp.get("/audit")
def index():
    cursor, args = page_args()
    filters = {"operator_id": positive_int(args.get("operator_id"), "operator_id", 2**31 - 1),
               "action": args.get("action"), "target_type": args.get("target_type"),
               "target_id": args.get("target_id"),
               "from_day": iso_day(args.get("from"), "from"), "to_day": iso_day(args.get("to"), "to")}
    found = audit.entries_page(cursor, PAGE_SIZE + 1, **filters)
    return render_template("console/audit.html", **page(found, PAGE_SIZE), args=args,
                           actions=audit.actions(), operators=operators.operators_page(None, 500))


@blp.get("/audit/<int:entry_id>")
def entry(entry_id):
    return render_template("console/audit_entry.html", entry=audit.get_entry(entry_id))
