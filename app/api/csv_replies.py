"""CSV replies, streamed a row at a time (UTF-8 with a BOM, so that Excel reads the Chinese)."""
import csv
import io
from collections.abc import Iterable

from flask import Response


def _lines(columns: list[str], rows: Iterable[dict]):
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, columns, extrasaction="ignore")
    writer.writeheader()
    yield "\ufeff" + buffer.getvalue()
    for row in rows:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow(row)
        yield buffer.getvalue()


def csv_response(filename: str, columns: list[str], rows: Iterable[dict]) -> Response:
    response = Response(_lines(columns, rows), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
