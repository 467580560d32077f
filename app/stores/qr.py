"""A store's mini-program code (wxacode): it opens STORE_QR_PAGE with the store in its scene.

The scene is `store=<id>` (WeChat allows 32 visible characters); the mini-program hands
it back unchanged when a member opens the code, and `store_for_scene` reads it.
"""
import re

from flask import current_app

from app.db_helpers import end_transaction
from app.errors import AppError
from app.extensions import db
from app.stores.models import Store
from app.wechat import get_wechat

SCENE_RE = re.compile(r"^store=(\d{1,9})$")


def scene_for(store_id: int) -> str:
    return f"store={store_id}"


def store_for_scene(scene: str) -> Store:
    match = SCENE_RE.match(scene.strip())
    store = match and db.session.get(Store, int(match.group(1)))
    if not store:
        raise AppError("STORE_SCENE_INVALID")
    return store


def store_code_png(store_id: int) -> bytes:
    """The store's code as a PNG, from WeChat (the same scene always gives the same code)."""
    if db.session.get(Store, store_id) is None:
        raise AppError("STORE_NOT_FOUND")
    end_transaction()  # WeChat may be slow
    return get_wechat().mini_program_code(scene_for(store_id), page=current_app.config["STORE_QR_PAGE"])
