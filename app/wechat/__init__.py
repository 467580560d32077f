"""WeChat: the only package that imports wechatpy."""
from app.wechat.client import WeChat, WxSession, get_wechat, init_app

__all__ = ["WeChat", "WxSession", "get_wechat", "init_app"]
