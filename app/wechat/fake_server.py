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
                                 "fake-unionid-<js_code>" and a session_key.
POST /wxa/business/getuserphonenumber  JSON {"code"}: "invalid…" → 40029, "used…" → 40163,
                                 "phone-13800138000" → 13800138000 (any "phone-" + 11
                                 digits), any other code → a mainland number derived from it.
POST /wxa/getwxacodeunlimit       JSON {"scene", "page"?, "width"?}: a real PNG (a QR code
                                 of "<page>?scene=<scene>"); scene missing or longer than
                                 32 characters → 40169 (WeChat's limit).

Switches for tests, reset by POST /__fake__/reset (which also clears the call log):
POST /__fake__/control with JSON holding any of
  {"expire_tokens": true}                                   every token issued so far expires
  {"fail": {"path": "/sns/jscode2session", "errcode": -1, "times": 2, "errmsg": "…"}}
                                                            the next `times` calls (default 1)
                                                            to that path answer that errcode
  {"delay": {"path": "/sns/jscode2session", "seconds": 1.5}}  every call there answers late
GET  /__fake__/calls             [{"method", "path", "params", "json"}, …] received so far.

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
            self._failures = {}  # path -> {"errcode", "errmsg", "times"}
            self._delays = {}  # path -> seconds

    def __call__(self, environ, start_response):
        request = Request(environ)
        handle = self._control if request.path.startswith("/__fake__/") else self._api
        return handle(request)(environ, start_response)

    def _api(self, request: Request) -> Response:
        params = request.args.to_dict()
        body = request.get_json(force=True, silent=True)
        with self._lock:
            self._calls.append({"method": request.method, "path": request.path,
                                "params": params, "json": body})
            delay = self._delays.get(request.path, 0)
            failure = self._take_failure(request.path)
        time.sleep(delay)  # outside the lock: other calls go on meanwhile
        if (request.method, request.path) not in ROUTES:
            return _json(_error(404, "not found"), 404)
        if failure:
            return _json(failure)
        handler, needs_token = ROUTES[(request.method, request.path)]
        with self._lock:
            error = needs_token and self._token_error(params.get("access_token"))
            reply = error or handler(self, params, body if isinstance(body, dict) else {})
        return reply if isinstance(reply, Response) else _json(reply)

    def _take_failure(self, path: str) -> dict | None:
        failure = self._failures.get(path)
        if not failure:
            return None
        failure["times"] -= 1
        if failure["times"] <= 0:
            del self._failures[path]
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
                self._failures[fail["path"]] = {"errcode": fail["errcode"], "errmsg": fail.get("errmsg"),
                                                "times": fail.get("times", 1)}
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
            "openid": f"fake-openid-{code}",
            "unionid": f"fake-unionid-{code}",
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
