"""The WeChat server API, through wechatpy, with every failure turned into an AppError.

wechatpy's client is used as is, with three corrections: its requests go to a
configurable API base (a local fake in dev and tests), each one has a timeout, and an
invalid access token is refreshed once rather than by wechatpy's uncapped recursion.
"""
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import requests
from flask import current_app
from requests.adapters import HTTPAdapter
from urllib3.exceptions import NewConnectionError
from wechatpy import WeChatClient
from wechatpy.exceptions import WeChatClientException
from wechatpy.session.memorystorage import MemoryStorage
from wechatpy.session.redisstorage import RedisStorage

from app.errors import AppError, WechatError

logger = logging.getLogger(__name__)

WECHAT_API_BASE = "https://api.weixin.qq.com/"
DEFAULT_TIMEOUT = 5.0

# access token invalid, not the latest, or expired
TOKEN_ERRORS = {40001, 40014, 42001}
# the login or phone code is wrong, used, missing, or its user is blocked as high risk
CODE_ERRORS = {40029, 40163, 40226, 41008}
# system busy, daily quota reached, per-user rate limit: worth trying again later
UNAVAILABLE_ERRORS = {-1, 45009, 45011}
# subscribe message: the user refused it, or has no one-time subscription left
SUBSCRIPTION_REFUSED = 43101

T = TypeVar("T")


@dataclass(frozen=True)
class WxSession:
    openid: str
    unionid: str | None
    session_key: str


class _ApiBaseAdapter(HTTPAdapter):
    """Sends wechatpy's requests to our API base, each with a timeout.

    wechatpy writes https://api.weixin.qq.com/ into its URLs and fetches the access
    token without a timeout; one transport adapter fixes both for every request.
    """

    def __init__(self, api_base: str, timeout: float):
        super().__init__()
        self.api_base = api_base
        self.timeout = timeout

    def send(self, request, timeout=None, **kwargs):
        if request.url.startswith(WECHAT_API_BASE):
            request.url = self.api_base + request.url[len(WECHAT_API_BASE):]
        return super().send(request, timeout=timeout or self.timeout, **kwargs)


class WeChat:
    def __init__(self, appid: str, secret: str, api_base: str = WECHAT_API_BASE,
                 timeout: float = DEFAULT_TIMEOUT, redis=None):
        # In Redis the access token is shared by every process, so it is fetched once.
        storage = RedisStorage(redis, prefix="wechatpy") if redis is not None else MemoryStorage()
        self._client = WeChatClient(appid, secret, session=storage, auto_retry=False)
        adapter = _ApiBaseAdapter(api_base.rstrip("/") + "/", timeout)
        for scheme in ("https://", "http://"):
            self._client._http.mount(scheme, adapter)

    def code_to_session(self, js_code: str) -> WxSession:
        """The member's identity for a wx.login() code."""
        return self._call(
            lambda: self._client.wxa.code_to_session(js_code),
            lambda reply: WxSession(reply["openid"], reply.get("unionid"), reply["session_key"]),
        )

    def phone_number(self, code: str) -> str:
        """The phone number (without country code) for a getPhoneNumber button code."""
        return self._call(
            # wechatpy has no wrapper for this API
            lambda: self._client.post("wxa/business/getuserphonenumber", data={"code": code},
                                      api_base_url=WECHAT_API_BASE),
            lambda reply: reply["phone_info"]["purePhoneNumber"],
        )

    def mini_program_code(self, scene: str, page: str | None = None, width: int = 430) -> bytes:
        """A mini-program code (PNG) that opens `page` with `scene` (≤ 32 visible characters)."""
        return self._call(
            # a PNG is not JSON, so wechatpy hands back the raw response; an error is JSON
            lambda: self._client.wxa.get_wxa_code_unlimited(scene, width=width, page=page),
            lambda reply: reply.content,
        )

    def send_subscribe_message(self, openid: str, template_id: str, data: dict, page: str | None = None) -> None:
        """Send one subscribe message; `data` is {"thing1": {"value": "…"}, …}.

        Errors as for every call: WECHAT_UNAVAILABLE is worth retrying (its details say
        whether the request may have reached WeChat), WECHAT_ERROR carries the errcode
        (43101 refused / no subscription left, 47003 bad data, 40003 bad openid, …).
        """
        self._call(lambda: self._client.wxa.send_subscribe_message(openid, template_id, data, page=page),
                   lambda reply: None)

    def _call(self, request: Callable[[], dict], parse: Callable[[dict], T]) -> T:
        """Run one request, refreshing the access token once if WeChat rejects it."""
        try:
            try:
                reply = request()
            except WeChatClientException as exc:
                if exc.errcode not in TOKEN_ERRORS:
                    raise
                # wechatpy's own retry (auto_retry) recurses without a cap: once is enough
                self._client.fetch_access_token()
                reply = request()
            return parse(reply)
        except WeChatClientException as exc:
            logger.warning("WeChat answered an error: %s", exc)
            raise _app_error(exc) from exc
        except requests.RequestException as exc:
            # Only the type: the message may quote a URL that carries the app secret.
            logger.warning("WeChat unreachable: %s", type(exc).__name__)
            raise AppError(WechatError.WECHAT_UNAVAILABLE, details=_transport_details(exc)) from None
        except (KeyError, TypeError, ValueError) as exc:
            # a reply without the documented fields (or not JSON at all)
            logger.warning("WeChat reply not understood: %r", exc)
            raise AppError(WechatError.WECHAT_ERROR, details={"errmsg": "unexpected reply"}) from exc


def _app_error(exc: WeChatClientException) -> AppError:
    if exc.errcode in CODE_ERRORS:
        return AppError(WechatError.WECHAT_CODE_INVALID)
    # errcode None: an HTTP error status; a token error here survived one refresh
    if exc.errcode is None:
        return AppError(WechatError.WECHAT_UNAVAILABLE)
    details = {"errcode": exc.errcode, "errmsg": exc.errmsg}
    if exc.errcode in UNAVAILABLE_ERRORS | TOKEN_ERRORS:
        return AppError(WechatError.WECHAT_UNAVAILABLE, details=details)
    return AppError(WechatError.WECHAT_ERROR, details=details)


def _transport_details(exc: requests.RequestException) -> dict:
    """The failure's type, and whether the request may have reached WeChat: only a
    connection that was never made (refused, unresolved, connect timeout) proves it did not."""
    never_connected = isinstance(exc, requests.ConnectTimeout) or isinstance(
        getattr(exc.args[0] if exc.args else None, "reason", None), NewConnectionError)
    return {"transport": type(exc).__name__, "request_sent": not never_connected}


def init_app(app) -> None:
    app.config.setdefault("WECHAT_API_BASE", WECHAT_API_BASE)
    app.config.setdefault("WECHAT_TIMEOUT", DEFAULT_TIMEOUT)
    # Built on first use, so a command may still change the config after create_app().
    app.extensions["wechat"] = None


def get_wechat() -> WeChat:
    """The app's WeChat client. Two threads racing here build two clients; one is kept."""
    app = current_app
    if app.extensions.get("wechat") is None:
        app.extensions["wechat"] = WeChat(
            app.config["WECHAT_APPID"],
            app.config["WECHAT_SECRET"],
            api_base=app.config["WECHAT_API_BASE"],
            timeout=float(app.config["WECHAT_TIMEOUT"]),
            redis=app.extensions.get("redis"),
        )
    return app.extensions["wechat"]
