"""A store's mini-program code (wxacode): it opens STORE_QR_PAGE with the store in its scene.

The scene is `s=<id>.<tag>` (WeChat allows 32 visible characters): the tag, derived from
SECRET_KEY (app/tags.py), proves the code was made by us, so a visit cannot be claimed
for a store by naming its id. The mini-program hands the scene back as `onLoad` receives
it, URL-encoded (`s%3D12.ABCD…`), or decoded; `store_for_scene` reads either.
"""
import re
from urllib.parse import unquote

from flask import current_app

from app.db_helpers import end_transaction
from app.errors import AppError, StoreError, StoreVisitError
from app.extensions import db
from app.stores.models import Store
from app.tags import tag, tag_matches
from app.wechat import get_wechat

TAG_LENGTH = 8  # 40 bits; the whole scene stays within 20 characters
SCENE_RE = re.compile(rf"^s=(\d{{1,9}})\.([0-9A-Z]{{{TAG_LENGTH}}})$")


def _signed(store_id: int) -> tuple[bytes, bytes]:
    return current_app.config["SECRET_KEY"].encode(), f"store-scene:{store_id}".encode()


def scene_for(store_id: int) -> str:
    return f"s={store_id}.{tag(*_signed(store_id), TAG_LENGTH)}"


def store_for_scene(scene: str) -> Store:
    match = SCENE_RE.match(unquote(scene.strip()))
    store_id = match and int(match.group(1))
    store = match and tag_matches(*_signed(store_id), match.group(2)) and db.session.get(Store, store_id)
    if not store:
        raise AppError(StoreVisitError.STORE_SCENE_INVALID)
    return store


def store_code_png(store_id: int) -> bytes:
    """The store's code as a PNG, from WeChat (the same scene always gives the same code)."""
    if db.session.get(Store, store_id) is None:
        raise AppError(StoreError.STORE_NOT_FOUND)
    end_transaction()  # WeChat may be slow
    return get_wechat().mini_program_code(scene_for(store_id), page=current_app.config["STORE_QR_PAGE"])
