"""One error type with a stable code, and one JSON envelope for every error.

The catalogue below is the single list of codes: the API answers with them and the
OpenAPI document lists them, so a front end can switch on `error.code` safely.
"""
from flask import jsonify
from werkzeug.exceptions import HTTPException

# code -> (HTTP status, default message). Codes are a public contract: never rename.
CATALOGUE: dict[str, tuple[int, str]] = {
    # request shape
    "BAD_REQUEST": (400, "请求格式错误"),
    "VALIDATION_ERROR": (422, "参数校验失败"),
    "NOT_FOUND": (404, "资源不存在"),
    "METHOD_NOT_ALLOWED": (405, "不支持的请求方法"),
    "RATE_LIMITED": (429, "请求过于频繁，请稍后再试"),
    "INTERNAL_ERROR": (500, "服务器内部错误"),
    # identity and access
    "AUTH_REQUIRED": (401, "请先登录"),
    "AUTH_INVALID": (401, "登录凭证无效或已过期"),
    "AUTH_BAD_CREDENTIALS": (401, "用户名或密码错误"),
    "AUDIENCE_FORBIDDEN": (403, "无权访问该接口"),
    "STORE_FORBIDDEN": (403, "不能操作其他门店的数据"),
    "ROLE_FORBIDDEN": (403, "当前角色无权执行该操作"),
    # idempotency
    "IDEMPOTENCY_KEY_REUSED": (422, "幂等键已用于不同的请求"),
    "IDEMPOTENCY_IN_FLIGHT": (409, "相同幂等键的请求正在处理中"),
    "IDEMPOTENCY_KEY_INVALID": (400, "幂等键格式错误"),
    # members
    "MEMBER_NOT_FOUND": (404, "会员不存在"),
    "PHONE_TAKEN": (409, "该手机号已绑定其他会员"),
    "BIRTHDAY_ALREADY_SET": (409, "生日设置后不可修改"),
    "MEMBER_CODE_EXPIRED": (410, "会员码已过期，请刷新后重试"),
    "MEMBER_CODE_INVALID": (404, "会员码无效"),
    "MEMBER_CODE_FOREIGN": (422, "不是本品牌的会员码"),
    "TIER_NOT_FOUND": (404, "会员等级不存在"),
    "TIER_CONFLICT": (409, "等级序号或成长值门槛与已有等级冲突"),
    # stores and staff
    "STORE_NOT_FOUND": (404, "门店不存在"),
    "STORE_CODE_TAKEN": (409, "门店编码已存在"),
    "USERNAME_TAKEN": (409, "用户名已存在"),
    # points and purchases
    "POINTS_INSUFFICIENT": (409, "积分不足"),
    "ORDER_DUPLICATE": (409, "该订单已记录"),
    "PURCHASE_NOT_FOUND": (404, "消费记录不存在"),
    "REFUND_EXCEEDS_PURCHASE": (409, "退款金额超过可退金额"),
    "REFUND_DUPLICATE": (409, "该退款单已记录"),
    # WeChat
    "WECHAT_CODE_INVALID": (400, "微信登录凭证无效或已使用"),
    "WECHAT_UNAVAILABLE": (503, "微信服务暂时不可用，请稍后再试"),
    "WECHAT_ERROR": (502, "微信接口返回错误"),
}


class AppError(Exception):
    """A failure the client can act on: a stable code, an HTTP status, a message."""

    def __init__(self, code: str, message: str | None = None, details: dict | None = None):
        status, default_message = CATALOGUE[code]
        super().__init__(f"{code}: {message or default_message}")
        self.code = code
        self.status = status
        self.message = message or default_message
        self.details = details or {}


def envelope(code: str, message: str, details: dict | None = None) -> dict:
    body = {"code": code, "message": message}
    if details:
        body["details"] = details
    return {"error": body}


# HTTP errors raised outside our services (routing, parsing, rate limits) by status.
_CODE_BY_STATUS = {400: "BAD_REQUEST", 401: "AUTH_REQUIRED", 404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED",
                   422: "VALIDATION_ERROR", 429: "RATE_LIMITED"}


def _json_error(code: str, message: str, status: int, details: dict | None = None):
    return jsonify(envelope(code, message, details)), status


def _field_errors(messages: dict) -> dict:
    """webargs nests messages by location ({"json": {"amount_fen": [...]}}); name the fields."""
    fields = {}
    for location, errors in messages.items():
        if isinstance(errors, dict):
            fields.update(errors)
        else:
            fields[location] = errors
    return fields


def register_error_handlers(app) -> None:
    @app.errorhandler(AppError)
    def _app_error(error: AppError):
        return _json_error(error.code, error.message, error.status, error.details)

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException):
        status = error.code or 500
        code = _CODE_BY_STATUS.get(status, "INTERNAL_ERROR" if status >= 500 else "BAD_REQUEST")
        message = CATALOGUE[code][1]
        details = None
        messages = (getattr(error, "data", None) or {}).get("messages")
        if messages:
            details = {"fields": _field_errors(messages)}
        return _json_error(code, message, status, details)

    @app.errorhandler(Exception)
    def _unexpected(error: Exception):
        app.logger.exception("unhandled error")
        return _json_error("INTERNAL_ERROR", CATALOGUE["INTERNAL_ERROR"][1], 500)
