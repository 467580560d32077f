"""PNG replies: QR codes drawn here (segno) and images fetched from WeChat."""
import base64
import io

import segno
from flask import Response, send_file


def png_response(png: bytes) -> Response:
    response = send_file(io.BytesIO(png), mimetype="image/png")
    response.headers["Cache-Control"] = "no-store"  # codes are secrets or may change
    return response


def qr_png(text: str) -> bytes:
    png = io.BytesIO()
    segno.make_qr(text, error="m").save(png, kind="png", scale=8, border=2)
    return png.getvalue()


def qr_png_response(text: str) -> Response:
    return png_response(qr_png(text))


def qr_data_url(text: str) -> str:
    """The QR image inline, as an `<image src>` loads it with no request (and no Authorization header)."""
    return "data:image/png;base64," + base64.b64encode(qr_png(text)).decode("ascii")
