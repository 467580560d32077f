"""The stores, as a member's store list shows them (member token): name, address, hours, location."""
from app.api.blueprint import Blueprint
from app.api.pagination import page, page_schema
from app.api.principals import require
from app.api.schemas import IntegerIdCursorArgs, StoreSchema
from app.security import MEMBER
from app.stores import service as stores

blp = Blueprint("member_stores", __name__, url_prefix="/api/v1/member", description="The store list (member token)")
blp.before_request(require(MEMBER))


@blp.route("/stores")
@blp.arguments(IntegerIdCursorArgs, location="query")
@blp.response(200, page_schema(StoreSchema))
def list_stores(args):
    """The stores, newest first, with address, opening hours and location (for "nearby")."""
    return page(stores.stores_page(args.get("cursor"), args["limit"] + 1), args["limit"])
