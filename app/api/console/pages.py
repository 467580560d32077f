"""What every console page stands on: a blueprint made by `page_blueprint`, whose hook logs the
operator in from the session cookie, applies the roles' one rule (app/operators/roles.py),
checks the CSRF token of every POST and opens the request's audit entry; the request
commits after a POST that succeeded (services flush), and errors are Chinese pages.

A page module:

    blp = page_blueprint("console_tiers", __name__)

    @blp.get("/tiers")
    def index():
        return render_template("console/tiers.html", tiers=tiers.all_tiers())

is registered in app/api/console/__init__.py (init_app) and served under /console/ (README.md here).
"""
from flask import Blueprint, current_app, flash, g, redirect, render_template, request, url_for
from werkzeug.exceptions import HTTPException

from app.api.console import session
from app.api.console.forms import form_fields
from app.api.input_guard import UNSTORABLE_MESSAGE, unstorable_fields
from app.audit import service as audit
from app.clock import business_tz
from app.errors import CATALOGUE, DEPENDENCY_DOWN, RETRY_AFTER_SECONDS, AppError, AuthError, RequestError
from app.extensions import db
from app.operators import roles

PREFIX = "/console"
_SAFE = roles.READS
# The layout's navigation: (label, endpoint, admins only). An endpoint not (yet) served shows
# as plain text; a page's blueprint is named console_<area> and its landing view `index`.
NAV = [
    ("概览", "console_home.index", False),
    ("会员", "console_members.index", False),
    ("等级", "console_tiers.index", False),
    ("分层", "console_layers.index", False),
    ("人群", "console_segments.index", False),
    ("活动", "console_campaigns.index", False),
    ("积分商城", "console_mall.index", False),
    ("配置", "console_config.index", False),
    ("任务", "console_jobs.index", False),
    ("审计日志", "console_audit.index", False),
    ("账号", "console_accounts.index", True),
]


def page_blueprint(name: str, import_name: str, public: bool = False, **options) -> Blueprint:
    """A blueprint of console pages under /console; `public`: no login needed (the login page)."""
    blp = Blueprint(name, import_name, url_prefix=PREFIX, **options)
    blp.before_request(_open_page if public else _guard)
    blp.context_processor(_page_context)
    blp.after_request(_commit_writes)
    blp.register_error_handler(AppError, _app_error)
    blp.register_error_handler(HTTPException, _http_error)
    for error_class in DEPENDENCY_DOWN:
        blp.register_error_handler(error_class, _dependency_down)
    return blp


def _open_page():
    """A public page: only the CSRF check (a login form needs it as much as any other)."""
    _check_input()
    if request.method not in _SAFE:
        session.check_csrf()


def _check_input() -> None:
    """Text no database can store (a NUL, a lone surrogate) in the query, path or form: 422."""
    params = [*request.args.items(multi=True), *(request.view_args or {}).items(), *request.form.items(multi=True)]
    if fields := unstorable_fields(params):
        raise AppError(RequestError.VALIDATION_ERROR,
                       details={"fields": {name: [UNSTORABLE_MESSAGE] for name in fields}})


def _guard():
    _check_input()
    operator = session.current_operator()
    if operator is None:
        back = request.full_path.rstrip("?") if request.method == "GET" else None
        return redirect(url_for("console.login", next=back))
    g.principal = operator
    if request.method not in _SAFE:
        session.check_csrf()
    if not roles.permitted(operator.role, request.method, current_app.view_functions.get(request.endpoint)):
        raise AppError(AuthError.ROLE_FORBIDDEN)
    if request.method not in _SAFE:  # every operator write lands in the audit log
        audit.begin(operator, request.endpoint, request.method, request.path, request.view_args or {},
                    {"query": request.args.to_dict(), "form": form_fields()}, g.get("request_id", ""))
    return None


def _page_context() -> dict:
    """What every template may use: the operator, what their role allows, the nav, the CSRF token."""
    operator = g.get("principal")
    role = operator.role if operator is not None else None
    return {"operator": operator, "can_write": role is not None and roles.may_write(role),
            "is_admin": role == roles.ADMIN, "role_names": roles.ROLE_NAMES, "csrf_token": session.csrf_token,
            "business_tz": business_tz(),
            "nav": [(label, endpoint if endpoint in current_app.view_functions else None)
                    for label, endpoint, admin_only in NAV if not admin_only or role == roles.ADMIN]}


def _commit_writes(response):
    if request.method not in _SAFE and response.status_code < 400:
        db.session.commit()
    return response


def actor() -> str:
    """The operator, named as the admin API names them (g.scope): who a write is recorded as."""
    return f"admin:{g.principal.id}"


def flash_and_redirect(message: str, endpoint: str, **values):
    """A write's answer: `message` shown on the page at `endpoint`, by a 303 (the browser GETs
    it, so a reload does not post again)."""
    flash(message)
    return redirect(url_for(endpoint, **values), code=303)


def error_page(status: int, message: str, code: str, fields: dict | None = None):
    """`fields`: what a 422 says of each field it names (a malformed cursor, a date out of range)."""
    return render_template("console/error.html", status=status, message=message, code=code,
                           fields=fields or {}), status


def _app_error(error: AppError):
    db.session.rollback()
    return error_page(error.status, error.message, error.code, error.details.get("fields"))


def _http_error(error: HTTPException):
    db.session.rollback()
    code = {404: RequestError.NOT_FOUND, 405: RequestError.METHOD_NOT_ALLOWED,
            413: RequestError.PAYLOAD_TOO_LARGE}.get(error.code, RequestError.BAD_REQUEST)
    return error_page(error.code or 400, CATALOGUE[code][1], code)


def _dependency_down(error: Exception):
    db.session.rollback()
    current_app.logger.warning("service unavailable: %s: %s", type(error).__name__, error)
    page, status = error_page(503, CATALOGUE[RequestError.SERVICE_UNAVAILABLE][1], RequestError.SERVICE_UNAVAILABLE)
    return page, status, {"Retry-After": str(RETRY_AFTER_SECONDS)}
