"""One error type with a stable code, and one JSON envelope for every error.

The codes are members of one enum per domain (below); `ERROR_CODES` lists the enums once and
the catalogue, the OpenAPI table and `x-error-codes` are built from it, so a front end can
switch on `error.code` safely and a mistyped code is an AttributeError where it is written.
The enums live here, in the core, because every domain raises them and the core imports no
domain (one file: no import side effects, one place to read every public code).
"""
from enum import auto

from flask import jsonify
from redis import exceptions as redis_errors
from sqlalchemy import exc as sql_errors
from werkzeug.exceptions import HTTPException

from app.enums import DataEnum
from app.extensions import db
from app.field_messages import in_chinese


class ErrorCode(DataEnum):
    """A public error code: the member's name is the code (and its value, so it equals that string and
    serializes as it), written `NAME = auto(), HTTP status, default message`."""

    @property
    def status(self) -> int:
        return self.data[0]

    @property
    def message(self) -> str:
        return self.data[1]


def catalogue(enums) -> dict[str, tuple[int, str]]:
    """code → (HTTP status, default message), in the enums' order; a code in two enums fails at import."""
    codes = [code for enum in enums for code in enum]
    duplicates = sorted({code.value for code in codes if [c.value for c in codes].count(code.value) > 1})
    if duplicates:
        raise ValueError(f"error codes in two enums: {duplicates}")
    return {code.value: (code.status, code.message) for code in codes}


class RequestError(ErrorCode):
    """The request itself: its shape, size, method, rate; our own failures."""

    BAD_REQUEST = auto(), 400, "请求格式错误"
    UNSUPPORTED_MEDIA_TYPE = auto(), 415, "请求体须为 JSON（Content-Type: application/json）"
    PAYLOAD_TOO_LARGE = auto(), 413, "请求体过大"
    VALIDATION_ERROR = auto(), 422, "参数校验失败"
    NOT_FOUND = auto(), 404, "资源不存在"
    METHOD_NOT_ALLOWED = auto(), 405, "不支持的请求方法"
    RATE_LIMITED = auto(), 429, "请求过于频繁，请稍后再试"
    INTERNAL_ERROR = auto(), 500, "服务器内部错误"
    SERVICE_UNAVAILABLE = auto(), 503, "服务暂时不可用，请稍后再试"


class AuthError(ErrorCode):
    """Tokens, logins and who may do what."""

    AUTH_REQUIRED = auto(), 401, "请先登录"
    AUTH_INVALID = auto(), 401, "登录凭证无效或已过期"
    AUTH_BAD_CREDENTIALS = auto(), 401, "用户名或密码错误"
    AUDIENCE_FORBIDDEN = auto(), 403, "无权访问该接口"
    STORE_FORBIDDEN = auto(), 403, "不能操作其他门店的数据"
    ROLE_FORBIDDEN = auto(), 403, "当前角色无权执行该操作"
    CURRENT_PASSWORD_WRONG = auto(), 403, "当前密码错误"


class IdempotencyError(ErrorCode):
    """Idempotency-Key claims (app/api/idempotency.py)."""

    IDEMPOTENCY_KEY_REUSED = auto(), 422, "幂等键已用于不同的请求"
    IDEMPOTENCY_IN_FLIGHT = auto(), 409, "相同幂等键的请求正在处理中"
    IDEMPOTENCY_KEY_INVALID = auto(), 400, "幂等键格式错误"


class MemberError(ErrorCode):
    """Members, their codes and lookup tickets, tiers (app/members)."""

    MEMBER_NOT_FOUND = auto(), 404, "会员不存在"
    PHONE_TAKEN = auto(), 409, "该手机号已绑定其他会员"
    BIRTHDAY_ALREADY_SET = auto(), 409, "生日设置后不可修改"
    MEMBER_CODE_EXPIRED = auto(), 410, "会员码已过期，请刷新后重试"
    MEMBER_CODE_INVALID = auto(), 404, "会员码无效"
    MEMBER_CODE_FOREIGN = auto(), 422, "不是本品牌的会员码"
    LOOKUP_TICKET_INVALID = auto(), 422, "会员查询凭证无效，请重新扫码"
    LOOKUP_TICKET_EXPIRED = auto(), 410, "会员查询凭证已过期，请重新扫码"
    LOOKUP_TICKET_FOREIGN = auto(), 403, "该会员查询凭证属于其他店员或门店"
    TIER_NOT_FOUND = auto(), 404, "会员等级不存在"
    TIER_CONFLICT = auto(), 409, "等级序号或成长值门槛与已有等级冲突"


class StoreError(ErrorCode):
    """Stores, staff and operator accounts (app/stores, app/operators)."""

    STORE_NOT_FOUND = auto(), 404, "门店不存在"
    STORE_CODE_TAKEN = auto(), 409, "门店编码已存在"
    USERNAME_TAKEN = auto(), 409, "用户名已存在"
    STAFF_NOT_FOUND = auto(), 404, "店员账号不存在"
    OPERATOR_NOT_FOUND = auto(), 404, "运营账号不存在"
    OPERATOR_SELF_DISABLE = auto(), 409, "不能停用自己的账号"


class PointsError(ErrorCode):
    """Points, purchases and refunds (app/points, app/purchases)."""

    POINTS_INSUFFICIENT = auto(), 409, "积分不足"
    ORDER_DUPLICATE = auto(), 409, "该订单已记录"
    PURCHASE_NOT_FOUND = auto(), 404, "消费记录不存在"
    REFUND_EXCEEDS_PURCHASE = auto(), 409, "退款金额超过可退金额"
    REFUND_DUPLICATE = auto(), 409, "该退款单已记录"
    PURCHASE_NEEDS_MANAGER = auto(), 403, "单笔金额超过店员上限，请店长录入"
    PURCHASE_ABOVE_LIMIT = auto(), 403, "单笔金额超过门店上限，请联系运营处理"
    STAFF_DAILY_LIMIT_REACHED = auto(), 409, "本账号今日录入的消费金额已达上限"


class WechatError(ErrorCode):
    """WeChat's API (app/wechat)."""

    WECHAT_CODE_INVALID = auto(), 400, "微信登录凭证无效或已使用"
    WECHAT_UNAVAILABLE = auto(), 503, "微信服务暂时不可用，请稍后再试"
    WECHAT_ERROR = auto(), 502, "微信接口返回错误"


class MessagingError(ErrorCode):
    """Subscribe messages and their rules (app/messaging)."""

    MESSAGE_RULE_NOT_FOUND = auto(), 404, "该事件没有消息规则"
    SUBSCRIBE_TEMPLATE_UNKNOWN = auto(), 422, "订阅消息模板不在消息规则中"


class CouponError(ErrorCode):
    """Coupons, tier benefits and points conversion (app/mall)."""

    COUPON_TEMPLATE_NOT_FOUND = auto(), 404, "优惠券模板不存在"
    COUPON_TEMPLATE_CLOSED = auto(), 409, "该优惠券已停止发放"
    COUPON_SOLD_OUT = auto(), 409, "优惠券已发完"
    COUPON_LIMIT_REACHED = auto(), 409, "已达到该优惠券的领取上限"
    COUPON_NOT_FOUND = auto(), 404, "券码无效"
    BENEFIT_NOT_FOUND = auto(), 404, "权益不存在"
    BENEFIT_EXPIRED = auto(), 409, "该权益已过期"
    POINTS_LOT_NOT_FOUND = auto(), 404, "积分记录不存在"
    POINTS_CONVERSION_UNAVAILABLE = auto(), 409, "暂未开放积分兑券"
    POINTS_CONVERSION_NOT_DUE = auto(), 409, "这笔积分尚未临近过期，暂不能兑券"
    COUPON_ALREADY_USED = auto(), 409, "该券已核销"
    COUPON_EXPIRED = auto(), 410, "该券已过期"
    COUPON_VOIDED = auto(), 410, "该券已作废"
    COUPON_NOT_YET_VALID = auto(), 409, "该券尚未到可用时间"
    COUPON_WRONG_STORE = auto(), 409, "该券不能在本门店使用"
    COUPON_BELOW_THRESHOLD = auto(), 409, "订单金额未达到使用门槛"
    COUPON_NOT_VOIDABLE = auto(), 409, "只有未使用的券可以作废"
    VERIFICATION_NOT_FOUND = auto(), 404, "核销记录不存在"
    VERIFICATION_ALREADY_UNDONE = auto(), 409, "该核销已撤销"
    VERIFICATION_UNDO_EXPIRED = auto(), 403, "已超过可撤销时间，请联系店长"


class MallError(ErrorCode):
    """The points mall: items and orders (app/mall)."""

    ITEM_NOT_FOUND = auto(), 404, "商品不存在"
    # a refused redemption's message is its reason's text, with the time, tier or period it names
    # (app/mall/items.py); these are the messages of the codes alone
    ITEM_SALE_NOT_STARTED = auto(), 409, "未开始兑换"
    ITEM_SALE_ENDED = auto(), 409, "兑换已结束"
    ITEM_MEMBER_DAY_ONLY = auto(), 409, "仅会员日可兑换"
    ITEM_TIER_REQUIRED = auto(), 403, "会员等级不足"
    ITEM_OUT_OF_STOCK = auto(), 409, "已售罄"
    ITEM_LIMIT_REACHED = auto(), 409, "已达兑换上限"
    # an operator's restock withdrawing more than is left (not a member's 已售罄)
    STOCK_BELOW_ZERO = auto(), 422, "减少的数量超过剩余库存，库存不能低于 0"
    CATEGORY_NOT_FOUND = auto(), 404, "商品分类不存在"
    CATEGORY_IN_USE = auto(), 409, "分类下还有商品，请先移走商品再删除"
    ADDRESS_REQUIRED = auto(), 422, "实物商品需要收货地址"
    MALL_ORDER_NOT_FOUND = auto(), 404, "兑换订单不存在"
    MALL_ORDER_NOT_CANCELLABLE = auto(), 409, "该订单不能取消"
    MALL_ORDER_NOT_SHIPPABLE = auto(), 409, "该订单不能发货"


class StoreVisitError(ErrorCode):
    """A member's visit to a store: store codes and offers."""

    STORE_SCENE_INVALID = auto(), 404, "门店码无效"
    STORE_NOT_VISITED = auto(), 409, "请先扫描门店码"
    STORE_OFFER_NOT_FOUND = auto(), 404, "该门店没有这张券可领"


class EngagementError(ErrorCode):
    """Check-in, referral and tasks (app/engagement)."""

    CHECKIN_ALREADY_DONE = auto(), 409, "该日已签到"
    MAKEUP_FUTURE_DAY = auto(), 422, "只能补签今天以前的日期"
    MAKEUP_BEFORE_JOINING = auto(), 422, "不能补签入会之前的日期"
    MAKEUP_BEYOND_WINDOW = auto(), 422, "超出可补签的日期范围"
    MAKEUP_QUOTA_EXCEEDED = auto(), 409, "本月补签次数已用完"
    MAKEUP_NO_CARD = auto(), 409, "没有可用的补签卡"
    INVITE_CODE_INVALID = auto(), 422, "邀请码无效"
    TASK_NOT_FOUND = auto(), 404, "任务不存在"
    TASK_NOT_ACTIVE = auto(), 409, "任务不在进行中"
    TASK_NOT_COMPLETED = auto(), 409, "任务尚未完成"
    TASK_ALREADY_CLAIMED = auto(), 409, "本期任务奖励已领取"
    TASK_IN_USE = auto(), 409, "已有会员参与该任务，不能删除，可停用或设置结束时间"


class ConsoleError(ErrorCode):
    """Operator roles, the audit log and the console (app/operators, app/audit, app/api/console)."""

    OPERATOR_LAST_ADMIN = auto(), 409, "至少要保留一名启用的管理员"
    AUDIT_ENTRY_NOT_FOUND = auto(), 404, "审计记录不存在"
    CSRF_INVALID = auto(), 400, "页面已过期或请求来源不明，请刷新页面后重试"


class CampaignError(ErrorCode):
    """Layers, segments and campaigns (app/layers, app/campaigns)."""

    SEGMENT_NOT_FOUND = auto(), 404, "人群不存在"
    CAMPAIGN_NOT_FOUND = auto(), 404, "活动不存在"


class JobError(ErrorCode):
    """Scheduled jobs that operators run (app/tasks, the console's 任务 page)."""

    JOB_NOT_FOUND = auto(), 404, "定时任务不存在"


# Every enum of codes, in the catalogue's order (the OpenAPI table); a new domain's enum is added here.
# Codes are a public contract: never rename.
ERROR_CODES: tuple[type[ErrorCode], ...] = (
    RequestError,
    AuthError,
    IdempotencyError,
    MemberError,
    StoreError,
    PointsError,
    WechatError,
    MessagingError,
    CouponError,
    MallError,
    StoreVisitError,
    EngagementError,
    ConsoleError,
    CampaignError,
    JobError,
)
CATALOGUE = catalogue(ERROR_CODES)


class AppError(Exception):
    """A failure the client can act on: a stable code (a member of an ErrorCode enum), its HTTP
    status and message. A string is refused: a typo must fail where it is written, in a test."""

    def __init__(self, code: ErrorCode, message: str | None = None, details: dict | None = None):
        if not isinstance(code, ErrorCode):
            raise TypeError(f"AppError takes an ErrorCode member, not {code!r}")
        super().__init__(f"{code}: {message or code.message}")
        self.code = code
        self.status = code.status
        self.message = message or code.message
        self.details = details or {}


def invalid_field(field: str, message: str) -> AppError:
    """Bad input that a service finds (a rule across fields, or the row as a PATCH leaves it):
    the same 422 a schema gives, naming the field, for the API, the CLI and the console alike."""
    return AppError(RequestError.VALIDATION_ERROR, details={"fields": {field: [message]}})


def envelope(code: str, message: str, details: dict | None = None) -> dict:
    """`details` is always there, an empty object when there is nothing to add; its `fields` are
    in Chinese, the English beside them as `fields_en` (app/field_messages.py)."""
    details = details or {}
    if "fields" in details:
        details = {**details, "fields": in_chinese(details["fields"]), "fields_en": details["fields"]}
    return {"error": {"code": code, "message": message, "details": details}}


# HTTP errors raised outside our services (routing, parsing, rate limits) by status.
_CODE_BY_STATUS = {code.status: code for code in (
    RequestError.BAD_REQUEST, AuthError.AUTH_REQUIRED, RequestError.NOT_FOUND, RequestError.METHOD_NOT_ALLOWED,
    RequestError.PAYLOAD_TOO_LARGE, RequestError.UNSUPPORTED_MEDIA_TYPE, RequestError.VALIDATION_ERROR,
    RequestError.RATE_LIMITED, RequestError.SERVICE_UNAVAILABLE)}


# A dependency that cannot be reached (PostgreSQL refused or ended the connection, the
# pool has none to give, Redis is down): the request did nothing, the same request may
# succeed in a moment. Constraint and data errors (IntegrityError, DataError) are not here:
# they are bugs or bad input, and retrying would not help.
DEPENDENCY_DOWN = (sql_errors.OperationalError, sql_errors.InterfaceError, sql_errors.DisconnectionError,
                   sql_errors.TimeoutError, redis_errors.ConnectionError, redis_errors.TimeoutError)
RETRY_AFTER_SECONDS = 5  # sent with every 503: when a client should try the same request again


def _json_error(code: str, message: str, status: int, details: dict | None = None):
    response = jsonify(envelope(code, message, details))
    if status == 503:
        response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response, status


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
        response, status = _json_error(error.code, error.message, error.status, error.details)
        if "retry_after" in error.details:  # 429 and 503: when to try again, as HTTP says it
            response.headers["Retry-After"] = str(error.details["retry_after"])
        return response, status

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException):
        status = error.code or 500
        code = _CODE_BY_STATUS.get(status, RequestError.INTERNAL_ERROR if status >= 500 else RequestError.BAD_REQUEST)
        details = None
        messages = (getattr(error, "data", None) or {}).get("messages")
        if messages:
            details = {"fields": _field_errors(messages)}
        response, status = _json_error(code, code.message, status, details)
        # the exception's own headers, e.g. the Allow that a 405 must carry
        response.headers.extend((name, value) for name, value in error.get_headers() if name != "Content-Type")
        return response, status

    def _dependency_down(error: Exception):
        db.session.rollback()  # whatever the request wrote is undone (a dead connection is discarded)
        app.logger.warning("service unavailable: %s: %s", type(error).__name__, error)
        return _json_error(RequestError.SERVICE_UNAVAILABLE, RequestError.SERVICE_UNAVAILABLE.message, 503)

    for error_class in DEPENDENCY_DOWN:
        app.register_error_handler(error_class, _dependency_down)

    @app.errorhandler(Exception)
    def _unexpected(error: Exception):
        app.logger.exception("unhandled error")
        return _json_error(RequestError.INTERNAL_ERROR, RequestError.INTERNAL_ERROR.message, 500)
