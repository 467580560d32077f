"""Operators: the audit log of every change made in the console or the admin API."""
from app.api.audit_schemas import AuditEntrySchema, AuditLogArgs, AuditPageSchema
from app.api.blueprint import Blueprint
from app.api.pagination import page
from app.api.principals import require
from app.api.schemas import MAX_ID
from app.audit import queries as audit
from app.errors import ConsoleError
from app.security import ADMIN

blp = Blueprint("admin_audit", __name__, url_prefix="/api/v1/admin", description="The audit log (admin token)")
blp.before_request(require(ADMIN))


@blp.route("/audit-log")
@blp.arguments(AuditLogArgs, location="query")
@blp.response(200, AuditPageSchema)
def list_audit_log(args):
    """Newest first: who changed what, when, with the rows before and after."""
    cursor, limit = args.pop("cursor", None), args.pop("limit")
    return page(audit.entries_page(cursor, limit + 1, **args), limit)


@blp.route(f"/audit-log/<int(max={MAX_ID}):entry_id>")
@blp.errors(ConsoleError.AUDIT_ENTRY_NOT_FOUND)
@blp.response(200, AuditEntrySchema)
def get_audit_entry(entry_id):
    return audit.get_entry(entry_id)
