"""PNG replies: QR codes drawn here (segno) and images fetched from WeChat."""
import io

import segno
from flask import Response, send_file


def png_response(png: bytes) -> Response:
    response = send_file(io.BytesIO(png), mimetype="image/png")
    response.headers["Cache-Control"] = "no-store"  # codes are secrets or may change
    return response


def qr_png_response(text: str) -> Response:
    png = io.BytesIO()
    segno.make_qr(text, error="m").save(png, kind="png", scale=8, border=2)
    return png_response(png.getvalue())
