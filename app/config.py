"""Settings from the environment.

With nothing set the app runs on its embedded default: a SQLite file under instance/,
in-memory rate limits, and the built-in fake WeChat (started by `flask serve`).
Production (`MEMBERMALL_ENV=production`) refuses to start without its secrets.
"""
import os
from pathlib import Path

INSTANCE_DIR = Path(__file__).resolve().parent.parent / "instance"

# Secrets and services that production must name explicitly.
PRODUCTION_REQUIRED = ("SECRET_KEY", "DATABASE_URL", "REDIS_URL", "WECHAT_APPID", "WECHAT_SECRET")
# Published in this file: anyone could sign tokens with it, so production refuses it.
DEVELOPMENT_SECRET_KEY = "dev-only-secret-change-me"
MIN_SECRET_KEY_BYTES = 32  # a shorter key is sooner guessed offline from any token signed with it


class ConfigError(RuntimeError):
    pass


def _int(env, name, default):
    return int(env.get(name, default))


def _check_secret_key(key: str) -> None:
    if key == DEVELOPMENT_SECRET_KEY:
        raise ConfigError("SECRET_KEY is the published development default: set a secret of your own")
    if len(key.encode()) < MIN_SECRET_KEY_BYTES:
        raise ConfigError(f"SECRET_KEY must be at least {MIN_SECRET_KEY_BYTES} bytes, e.g. "
                          "python -c 'import secrets; print(secrets.token_urlsafe(48))'")


def load_config(env=None) -> dict:
    env = os.environ if env is None else env
    production = env.get("MEMBERMALL_ENV", "development") == "production"
    if production:
        missing = [name for name in PRODUCTION_REQUIRED if not env.get(name)]
        if missing:
            raise ConfigError(f"production needs these environment variables: {', '.join(missing)}")
        _check_secret_key(env["SECRET_KEY"])
    redis_url = env.get("REDIS_URL") or None
    return {
        "PRODUCTION": production,
        "SECRET_KEY": env.get("SECRET_KEY", DEVELOPMENT_SECRET_KEY),
        "SQLALCHEMY_DATABASE_URI": env.get("DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'membermall.db'}"),
        "SQLALCHEMY_ENGINE_OPTIONS": {},  # app/database.py checks connections as the pool hands them out
        # No request of this API needs more; a larger body is refused (413) before it is read.
        "MAX_CONTENT_LENGTH": _int(env, "MAX_CONTENT_LENGTH", 64 * 1024),
        "REDIS_URL": redis_url,
        "RATELIMIT_STORAGE_URI": redis_url or "memory://",
        "RATELIMIT_KEY_PREFIX": env.get("RATELIMIT_KEY_PREFIX", "membermall"),
        # Business calendar: check-in days, birthdays and expiry dates are local dates.
        "BUSINESS_TZ": env.get("BUSINESS_TZ", "Asia/Shanghai"),
        # Earning rule: points = floor(yuan * POINTS_PER_YUAN * tier multiplier),
        # growth = floor(yuan * GROWTH_PER_YUAN); see app/points/rules.py.
        "POINTS_PER_YUAN": _int(env, "POINTS_PER_YUAN", 1),
        "GROWTH_PER_YUAN": _int(env, "GROWTH_PER_YUAN", 1),
        # What outstanding points are worth to the brand (the liability on the dashboard), in fen
        # per 100 points: 100 = 1 fen a point, as points are spent in the mall.
        "POINTS_VALUE_FEN_PER_100_POINTS": _int(env, "POINTS_VALUE_FEN_PER_100_POINTS", 100),
        # "year_end:1" = 31 Dec of the year after the credit; "days:365" = N days later.
        "POINTS_EXPIRY": env.get("POINTS_EXPIRY", "year_end:1"),
        "MEMBER_TOKEN_TTL": _int(env, "MEMBER_TOKEN_TTL", 7 * 24 * 3600),
        "STAFF_TOKEN_TTL": _int(env, "STAFF_TOKEN_TTL", 12 * 3600),
        "ADMIN_TOKEN_TTL": _int(env, "ADMIN_TOKEN_TTL", 8 * 3600),
        # Dynamic member code: 18 digits = prefix(2) + member id(10) + one-time code(6).
        "MEMBER_CODE_PREFIX": env.get("MEMBER_CODE_PREFIX", "66"),
        "MEMBER_CODE_STEP": _int(env, "MEMBER_CODE_STEP", 30),
        # Failed member-code resolutions (lookups, purchases) per staff account.
        "MEMBER_CODE_LOOKUP_FAILURES": env.get("MEMBER_CODE_LOOKUP_FAILURES", "10/minute"),
        # Seconds the ticket a member lookup answers with may name the member in a purchase.
        "MEMBER_LOOKUP_TICKET_TTL": _int(env, "MEMBER_LOOKUP_TICKET_TTL", 300),
        # What one staff account may record (app/purchases/service.py): per purchase, and in
        # total per business day. Above a clerk's ceilings a manager may, up to the manager's.
        "CLERK_PURCHASE_LIMIT_FEN": _int(env, "CLERK_PURCHASE_LIMIT_FEN", 30_000_00),
        "CLERK_DAILY_LIMIT_FEN": _int(env, "CLERK_DAILY_LIMIT_FEN", 100_000_00),
        "MANAGER_PURCHASE_LIMIT_FEN": _int(env, "MANAGER_PURCHASE_LIMIT_FEN", 300_000_00),
        "MANAGER_DAILY_LIMIT_FEN": _int(env, "MANAGER_DAILY_LIMIT_FEN", 1_000_000_00),
        # Logins per client address; failed staff and operator logins per username.
        "LOGIN_RATE": env.get("LOGIN_RATE", "20/minute"),
        "LOGIN_FAILURES_PER_ACCOUNT": env.get("LOGIN_FAILURES_PER_ACCOUNT", "5/minute;20/hour"),
        # Reverse proxies in front of the app whose X-Forwarded-For is believed (0: none,
        # the client address is the connection's).
        "TRUSTED_PROXY_COUNT": _int(env, "TRUSTED_PROXY_COUNT", 0),
        # The mini-program page a member's invite code opens; its scene "i=<invite code>" names the inviter.
        "INVITE_PAGE": env.get("INVITE_PAGE", "pages/invite/index"),
        # Seconds another process may take to see a task an operator wrote (app/engagement/tasks.py).
        "TASKS_CACHE_SECONDS": float(env.get("TASKS_CACHE_SECONDS", "5")),
        # Mall (app/mall): the monthly member day, a day of the month in the business zone (0 = none).
        "MEMBER_DAY": _int(env, "MEMBER_DAY", 18),
        # Failed coupon-code lookups per staff account: slowed by the first limit, locked by the second.
        "COUPON_LOOKUP_FAILURES": env.get("COUPON_LOOKUP_FAILURES", "10/minute;30/hour"),
        # Seconds a clerk may undo their own verification (a manager of the store may at any time).
        "VERIFICATION_UNDO_WINDOW": _int(env, "VERIFICATION_UNDO_WINDOW", 600),
        # The mini-program page a store's code opens; its scene names the store.
        "STORE_QR_PAGE": env.get("STORE_QR_PAGE", "pages/store/index"),
        # Idempotency-Key records (app/idempotency): hours a reply stays replayable (a day
        # covers any client's retries; the replies hold personal data, so not longer), and rows
        # per transaction of the daily purge.
        "IDEMPOTENCY_RETENTION_HOURS": _int(env, "IDEMPOTENCY_RETENTION_HOURS", 24),
        "IDEMPOTENCY_PURGE_BATCH": _int(env, "IDEMPOTENCY_PURGE_BATCH", 1000),
        # Jobs and pushes (app/tasks, app/messaging): the RQ queue every job goes to.
        "RQ_QUEUE": env.get("RQ_QUEUE", "membermall"),
        # Seconds a scheduled job (expiry, reviews, reminders, the dispatcher) may run.
        "SCHEDULED_JOB_TIMEOUT": _int(env, "SCHEDULED_JOB_TIMEOUT", 3600),
        # The outbox dispatcher: events per batch, and how often it runs besides after commits.
        "OUTBOX_BATCH": _int(env, "OUTBOX_BATCH", 500),
        "OUTBOX_DISPATCH_INTERVAL": _int(env, "OUTBOX_DISPATCH_INTERVAL", 15),
        # Seconds between two nudges of the dispatcher from one process (app/tasks/__init__.py).
        "OUTBOX_NUDGE_INTERVAL": float(env.get("OUTBOX_NUDGE_INTERVAL", "1")),
        # Subscribe-message sends: retry backoff in seconds (one retry per value), job timeout,
        # how long a claim may stay "sending" before it counts as unconfirmed, and after how
        # long an untouched pending message is enqueued again.
        "MESSAGE_RETRY_INTERVALS": env.get("MESSAGE_RETRY_INTERVALS", "10,60,300"),
        "MESSAGE_JOB_TIMEOUT": _int(env, "MESSAGE_JOB_TIMEOUT", 60),
        "MESSAGE_SEND_LEASE": _int(env, "MESSAGE_SEND_LEASE", 600),
        "MESSAGE_REQUEUE_AFTER": _int(env, "MESSAGE_REQUEUE_AFTER", 900),
        # Template ids (comma-separated) the account may send as long-term subscriptions.
        "SUBSCRIBE_LONG_TERM_TEMPLATES": env.get("SUBSCRIBE_LONG_TERM_TEMPLATES", ""),
        # Points expiry: members per batch; reminder offsets in days before the expiry date
        # (the seeds' "up to 3 months ahead": "90,30,7").
        "POINTS_EXPIRY_BATCH": _int(env, "POINTS_EXPIRY_BATCH", 1000),
        "POINTS_EXPIRY_REMINDER_DAYS": env.get("POINTS_EXPIRY_REMINDER_DAYS", "30,7"),
        # Coupons the expiry sweep records per batch (each batch its own transaction).
        "COUPON_EXPIRY_BATCH": _int(env, "COUPON_EXPIRY_BATCH", 1000),
        # Coupon-expiring reminder (app/mall/coupon_reminders.py): days before the last valid day.
        "COUPON_EXPIRY_REMINDER_DAYS": _int(env, "COUPON_EXPIRY_REMINDER_DAYS", 3),
        # Tier benefits to claim (app/mall/benefits.py): days an upgrade pack may be claimed
        # (counting the day it is granted), and the reminder's days before a benefit's last day.
        "BENEFIT_UPGRADE_CLAIM_DAYS": _int(env, "BENEFIT_UPGRADE_CLAIM_DAYS", 30),
        "BENEFIT_EXPIRY_REMINDER_DAYS": _int(env, "BENEFIT_EXPIRY_REMINDER_DAYS", 3),
        # Expiring points → coupon (app/mall/points_conversion.py): the template (0 = off) and
        # the points one coupon costs; lots expiring within the points reminder window qualify.
        "POINTS_CONVERSION_TEMPLATE_ID": _int(env, "POINTS_CONVERSION_TEMPLATE_ID", 0),
        "POINTS_CONVERSION_RATE": _int(env, "POINTS_CONVERSION_RATE", 500),
        # Tier review (app/members/tier_review.py): months a tier is held, growth to keep it
        # (percent of the tier's threshold), "one_level" or "earned", warning days before.
        "TIER_HOLD_MONTHS": _int(env, "TIER_HOLD_MONTHS", 12),
        "TIER_RETENTION_PCT": _int(env, "TIER_RETENTION_PCT", 100),
        "TIER_DOWNGRADE": env.get("TIER_DOWNGRADE", "one_level"),
        "TIER_DOWNGRADE_WARNING_DAYS": _int(env, "TIER_DOWNGRADE_WARNING_DAYS", 30),
        "TIER_REVIEW_BATCH": _int(env, "TIER_REVIEW_BATCH", 500),
        # RFM layers (app/layers/rfm.py): the window of purchases, when a member is new, when dormant,
        # and how many times their own usual interval between purchases makes them at risk.
        "RFM_WINDOW_DAYS": _int(env, "RFM_WINDOW_DAYS", 365),
        "RFM_NEW_DAYS": _int(env, "RFM_NEW_DAYS", 30),
        "RFM_DORMANT_DAYS": _int(env, "RFM_DORMANT_DAYS", 180),
        "RFM_AT_RISK_FACTOR": float(env.get("RFM_AT_RISK_FACTOR", "2")),
        # Campaigns (app/campaigns): members reached per transaction of the launch job.
        "CAMPAIGN_BATCH": _int(env, "CAMPAIGN_BATCH", 500),
        "CAMPAIGN_INTERVAL": _int(env, "CAMPAIGN_INTERVAL", 60),  # seconds between launch sweeps
        "WECHAT_APPID": env.get("WECHAT_APPID", "wx-fake-appid"),
        "WECHAT_SECRET": env.get("WECHAT_SECRET", "fake-secret"),
        "WECHAT_API_BASE": env.get("WECHAT_API_BASE", "https://api.weixin.qq.com/"),
        "WECHAT_TIMEOUT": float(env.get("WECHAT_TIMEOUT", "5")),
        "API_TITLE": "membermall",
        "API_VERSION": "v1",
        "OPENAPI_VERSION": "3.0.3",
        "OPENAPI_URL_PREFIX": "/",
        "OPENAPI_JSON_PATH": "openapi.json",
        # The docs pages /docs and /redoc (app/api/docs.py): on unless API_DOCS=0; off by default in production.
        "API_DOCS": env.get("API_DOCS", "0" if production else "1") == "1",
    }
