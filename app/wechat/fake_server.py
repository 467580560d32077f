"""A fake of WeChat's server API over real HTTP, for development and tests.

Run it with `python -m app.wechat.fake_server --port 9100` and set
WECHAT_API_BASE=http://127.0.0.1:9100/ ; tests use `start_fake_wechat()`.
Any appid and secret are accepted. Answers are deterministic, so you can log in by hand:

GET  /cgi-bin/token              a new access token on every call (valid 7200 s);
                                 no appid → 41002, no secret → 41004.
Every other API needs one of those tokens as `access_token`: unknown → 40001,
expired → 42001. Only /sns/jscode2session ignores it, as WeChat does.
GET  /sns/jscode2session         js_code "invalid…" → 40029, "used…" → 40163, otherwise
                                 openid "fake-openid-<js_code>", unionid
                                 "fake-unionid-<js_code>" (a digest of a js_code over 40
                                 characters) and a session_key.
POST /wxa/business/getuserphonenumber  JSON {"code"}: "invalid…" → 40029, "used…" → 40163,
                                 "phone-13800138000" → 13800138000 (any "phone-" + 11
                                 digits), any other code → a mainland number derived from it.
POST /wxa/getwxacodeunlimit       JSON {"scene", "page"?, "width"?}: a real PNG (a QR code
                                 of "<page>?scene=<scene>"); scene missing or longer than
                                 32 characters → 40169 (WeChat's limit).
POST /cgi-bin/message/subscribe/send  JSON {"touser", "template_id", "data", "page"?}: touser
                                 missing or "invalid…" → 40003, no template_id → 40037, a data
                                 value breaking its type's rule (thing ≤ 20 characters, phrase
                                 ≤ 5 Chinese characters, number digits, date 年月日, …) → 47003;
                                 otherwise delivered: {"errcode": 0, "msgid"}.

Switches for tests, reset by POST /__fake__/reset (which also clears the call log):
POST /__fake__/control with JSON holding any of
  {"expire_tokens": true}                                   every token issued so far expires
  {"fail": {"path": "/sns/jscode2session", "errcode": -1, "times": 2, "errmsg": "…"}}
                                                            the next `times` calls (default 1)
                                                            to that path answer that errcode;
                                                            with "touser": only calls whose JSON
                                                            names that openid (e.g. 43101 for one
                                                            member), checked before path-wide ones
  {"delay": {"path": "/sns/jscode2session", "seconds": 1.5}}  every call there answers late
GET  /__fake__/calls             [{"method", "path", "params", "json", "errcode"}, …] received
                                 so far; "errcode" is what was answered (0: success, None while
                                 a delayed call is still being answered). A call is logged when it
                                 arrives: one answered late to a client that gave up still counts,
                                 as a message WeChat delivered does.

A new API is one more method decorated with @route(method, path).
"""
import argparse
import base64
import hashlib
import io
import json
import re
import secrets
import threading
import time

import segno
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

TOKEN_TTL = 7200

ERRMSG = {
    -1: "system error",
    40001: "invalid credential, access_token is invalid or not latest",
    40029: "invalid code",
    40163: "code been used",
    41002: "appid missing",
    41004: "appsecret missing",
    41008: "missing code",
    42001: "access_token expired",
    45009: "reach max api daily quota limit",
    40169: "invalid length for scene",
    40003: "invalid openid",
    40037: "invalid template_id",
    43101: "user refuse to accept the msg",
    47003: "argument invalid!",
}

# subscribe message data: per type, the longest value and the characters allowed
_DATE = r"(\d{4}年\d{1,2}月\d{1,2}日|\d{4}[-/.]\d{1,2}[-/.]\d{1,2})"
_CLOCK = r"\d{1,2}:\d{2}(:\d{2})?"
SUBSCRIBE_RULES = {
    "thing": (20, r".+"),
    "number": (32, r"-?\d+(\.\d+)?"),
    "letter": (32, r"[A-Za-z]+"),
    "symbol": (5, r"[^\w\s]+"),
    "character_string": (32, r"[\x21-\x7e]+"),
    "phone_number": (17, r"[0-9+\-() ]+"),
    "car_number": (8, r".+"),
    "name": (20, r".+"),
    "phrase": (5, r"[\u4e00-\u9fff]+"),
    "date": (40, f"{_DATE}( {_CLOCK})?"),
    "time": (40, f"({_DATE} )?{_CLOCK}"),
    "amount": (14, r"[¥$￥]?\d{1,10}(\.\d{1,2})?元?"),
}

# (method, path) -> (handler, needs a token); handlers answer a JSON object or a Response
ROUTES = {}


def route(method: str, path: str, needs_token: bool = True):
    def register(handler):
        ROUTES[(method, path)] = (handler, needs_token)
        return handler
    return register


def _error(errcode: int, errmsg: str | None = None) -> dict:
    return {"errcode": errcode, "errmsg": errmsg or ERRMSG.get(errcode, "fake error")}


def _missing(params: dict, **errcodes: int) -> dict | None:
    """The error for the first missing parameter, given as name=errcode."""
    for name, errcode in errcodes.items():
        if not params.get(name):
            return _error(errcode)
    return None


def _code_error(code: str) -> dict | None:
    if code.startswith("invalid"):
        return _error(40029)
    if code.startswith("used"):
        return _error(40163)
    return None


def _digest(kind: str, code: str) -> bytes:
    return hashlib.sha256(f"{kind}:{code}".encode()).digest()


def _fake_id(kind: str, code: str) -> str:
    """"fake-<kind>-<code>", or a digest of a code over 40 characters: WeChat's ids are short (28)."""
    return f"fake-{kind}-{code if len(code) <= 40 else _digest(kind, code).hex()[:40]}"


def _subscribe_data_error(data) -> dict | None:
    """47003 for the first value WeChat would refuse, as WeChat names it."""
    if not isinstance(data, dict) or not data:
        return _error(47003, "argument invalid! data is empty")
    for key, item in data.items():
        value = item.get("value") if isinstance(item, dict) else None
        limit, pattern = SUBSCRIBE_RULES.get(re.sub(r"\d+$", "", key), (20, r".+"))
        if key.startswith("name") and isinstance(value, str) and re.search(r"[\u4e00-\u9fff]", value):
            limit = 10
        if (not isinstance(value, str) or len(value) > limit or re.search(r"[\x00-\x1f]", value)
                or not re.fullmatch(pattern, value)):
            return _error(47003, f"argument invalid! data.{key}.value invalid")
    return None


def _errcode(reply) -> int:
    return reply.get("errcode", 0) if isinstance(reply, dict) else 0


def _json(body, status: int = 200) -> Response:
    return Response(json.dumps(body, ensure_ascii=False), status, mimetype="application/json")


class FakeWeChat:
    """The WSGI app and its state: issued tokens, switches and the call log."""

    def __init__(self):
        self._lock = threading.Lock()
        self._tokens = {}  # token -> (appid, expires at, monotonic)
        self.reset()

    def reset(self):
        with self._lock:
            self._calls = []
            self._failures = {}  # (path, touser or None) -> {"errcode", "errmsg", "times"}
            self._sent = 0
            self._delays = {}  # path -> seconds

    def __call__(self, environ, start_response):
        request = Request(environ)
        handle = self._control if request.path.startswith("/__fake__/") else self._api
        return handle(request)(environ, start_response)

    def _api(self, request: Request) -> Response:
        params = request.args.to_dict()
        body = request.get_json(force=True, silent=True)
        body = body if isinstance(body, dict) else {}
        call = {"method": request.method, "path": request.path, "params": params, "json": body, "errcode": None}
        with self._lock:
            self._calls.append(call)
            delay = self._delays.get(request.path, 0)
            # decided on arrival: a late answer must not take a failure meant for a later call
            failure = self._take_failure(request.path, body.get("touser"))
        time.sleep(delay)  # outside the lock: other calls go on meanwhile
        reply = self._answer(request, params, body, failure)
        with self._lock:
            call["errcode"] = _errcode(reply)
        if (request.method, request.path) not in ROUTES:
            return _json(reply, 404)
        return reply if isinstance(reply, Response) else _json(reply)

    def _answer(self, request: Request, params: dict, body: dict, failure: dict | None):
        if (request.method, request.path) not in ROUTES:
            return _error(404, "not found")
        handler, needs_token = ROUTES[(request.method, request.path)]
        with self._lock:
            error = failure or (needs_token and self._token_error(params.get("access_token")))
            return error or handler(self, params, body)

    def _take_failure(self, path: str, touser: str | None) -> dict | None:
        key = (path, touser) if (path, touser) in self._failures else (path, None)
        failure = self._failures.get(key)
        if not failure:
            return None
        failure["times"] -= 1
        if failure["times"] <= 0:
            del self._failures[key]
        return _error(failure["errcode"], failure.get("errmsg"))

    def _token_error(self, token: str | None) -> dict | None:
        if token not in self._tokens:
            return _error(40001)
        if self._tokens[token][1] <= time.monotonic():
            return _error(42001)
        return None

    def _control(self, request: Request) -> Response:
        if (request.method, request.path) == ("GET", "/__fake__/calls"):
            with self._lock:
                return _json(self._calls)
        if (request.method, request.path) == ("POST", "/__fake__/reset"):
            self.reset()
            return _json({"ok": True})
        if (request.method, request.path) != ("POST", "/__fake__/control"):
            return _json({"error": "no such control"}, 404)
        switches = request.get_json(force=True, silent=True)
        if not isinstance(switches, dict) or set(switches) - {"expire_tokens", "fail", "delay"}:
            return _json({"error": "expected expire_tokens, fail or delay"}, 400)
        with self._lock:
            if switches.get("expire_tokens"):
                now = time.monotonic()
                self._tokens = {token: (appid, now) for token, (appid, _) in self._tokens.items()}
            if fail := switches.get("fail"):
                self._failures[(fail["path"], fail.get("touser"))] = {
                    "errcode": fail["errcode"], "errmsg": fail.get("errmsg"), "times": fail.get("times", 1)}
            if delay := switches.get("delay"):
                self._delays[delay["path"]] = float(delay["seconds"])
        return _json({"ok": True})

    @route("GET", "/cgi-bin/token", needs_token=False)
    def _token(self, params: dict, body: dict) -> dict:
        if error := _missing(params, appid=41002, secret=41004):
            return error
        token = "fake-token-" + secrets.token_hex(16)
        self._tokens[token] = (params["appid"], time.monotonic() + TOKEN_TTL)
        return {"access_token": token, "expires_in": TOKEN_TTL}

    @route("GET", "/sns/jscode2session", needs_token=False)
    def _jscode2session(self, params: dict, body: dict) -> dict:
        if error := _missing(params, appid=41002, secret=41004, js_code=41008):
            return error
        code = params["js_code"]
        if error := _code_error(code):
            return error
        return {
            "openid": _fake_id("openid", code),
            "unionid": _fake_id("unionid", code),
            "session_key": base64.b64encode(_digest("session_key", code)[:16]).decode(),
        }

    @route("POST", "/wxa/business/getuserphonenumber")
    def _phone_number(self, params: dict, body: dict) -> dict:
        if error := _missing(body, code=41008):
            return error
        code = body["code"]
        if error := _code_error(code):
            return error
        if match := re.fullmatch(r"phone-(1\d{10})", code):
            number = match.group(1)
        else:
            n = int.from_bytes(_digest("phone", code)[:8])
            number = f"1{3 + n % 7}{n // 7 % 10**9:09d}"  # 13x … 19x, like mainland mobiles
        return {
            "errcode": 0,
            "errmsg": "ok",
            "phone_info": {
                "phoneNumber": number,
                "purePhoneNumber": number,
                "countryCode": "86",
                "watermark": {"timestamp": int(time.time()), "appid": self._tokens[params["access_token"]][0]},
            },
        }


    @route("POST", "/cgi-bin/message/subscribe/send")
    def _subscribe_send(self, params: dict, body: dict) -> dict:
        touser = body.get("touser")
        if not isinstance(touser, str) or not touser or touser.startswith("invalid"):
            return _error(40003)
        if not body.get("template_id"):
            return _error(40037)
        if error := _subscribe_data_error(body.get("data")):
            return error
        self._sent += 1
        return {"errcode": 0, "errmsg": "ok", "msgid": self._sent}

    @route("POST", "/wxa/getwxacodeunlimit")
    def _wxa_code_unlimited(self, params: dict, body: dict):
        scene = body.get("scene")
        if not isinstance(scene, str) or not 0 < len(scene) <= 32:
            return _error(40169)
        png = io.BytesIO()
        segno.make(f"{body.get('page') or ''}?scene={scene}").save(png, kind="png", scale=4)
        return Response(png.getvalue(), mimetype="image/png")


class FakeWeChatServer:
    """A FakeWeChat served on a background thread."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0):
        self._server = make_server(host, port, FakeWeChat(), threaded=True)
        self.base_url = f"http://{host}:{self._server.server_port}/"
        # a short poll interval makes stop() quick
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)
        self._thread.start()

    def stop(self):
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()


def start_fake_wechat(host: str = "127.0.0.1", port: int = 0) -> FakeWeChatServer:
    return FakeWeChatServer(host, port)


def main():
    parser = argparse.ArgumentParser(description="Serve a fake WeChat API (see this module's docstring).")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9100)
    args = parser.parse_args()
    server = make_server(args.host, args.port, FakeWeChat(), threaded=True)
    print(f"Fake WeChat API on http://{args.host}:{server.server_port}/ (Ctrl+C to stop)")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
