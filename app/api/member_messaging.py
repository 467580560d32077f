"""The mini-program's subscribe-message quota: which templates to ask for, and the answers."""
from flask import g

from app.api.blueprint import Blueprint
from app.api.idempotency import mutation
from app.api.messaging_schemas import RequestPageSchema, SubscribeResultArgs, SubscriptionSchema
from app.api.pagination import page_schema, whole
from app.api.principals import require
from app.errors import MessagingError
from app.messaging import subscriptions
from app.security import MEMBER

blp = Blueprint("member_messaging", __name__, url_prefix="/api/v1/member",
                description="Subscribe-message subscriptions (member token)")
blp.before_request(require(MEMBER))


@blp.route("/subscriptions")
@blp.response(200, page_schema(SubscriptionSchema))
def list_subscriptions():
    """The templates our messages use and what is left of each (one per message rule: one page).

    Which of them to ask for on which page: GET /member/subscriptions/pages."""
    return whole(subscriptions.templates_for(g.principal.id))


@blp.route("/subscriptions/pages")
@blp.response(200, page_schema(RequestPageSchema))
def request_pages():
    """Which templates to ask for on which page: each page's `template_ids` are the `tmplIds` of its
    wx.requestSubscribeMessage call (a few pages: one page of them)."""
    return whole(subscriptions.request_pages(g.principal.id))


@blp.route("/subscriptions", methods=["POST"])
@blp.errors(MessagingError.SUBSCRIBE_TEMPLATE_UNKNOWN)
@mutation
@blp.arguments(SubscribeResultArgs)
@blp.response(200, page_schema(SubscriptionSchema))
def report_subscriptions(args):
    """Report a wx.requestSubscribeMessage result, the object its `success` receives, as it is: each
    "accept" of a one-time template is one message.

    A template no enabled rule sends is 422 SUBSCRIBE_TEMPLATE_UNKNOWN naming it; a failed call
    (`errMsg` not "requestSubscribeMessage:ok") is 422 naming `errMsg`. Send an Idempotency-Key: a
    retried report then counts once.
    """
    subscriptions.report(g.principal.id, args["results"])
    return whole(subscriptions.templates_for(g.principal.id))
