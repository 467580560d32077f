"""配置 · 门店与店员: stores (name, address, opening hours, location) and their staff accounts
(create, disable and enable, reset the password). The admin API's services and schemas
(app/api/admin.py): disabling or a reset ends the account's tokens at once."""
from flask import render_template, request, url_for
from marshmallow import ValidationError

from app.api.account_schemas import PasswordResetArgs
from app.api.console.config_forms import CHOICE_NAMES, Field, form_view, read, submit
from app.api.console.forms import page_args
from app.api.console.pages import actor, flash_and_redirect, page_blueprint
from app.api.pagination import page
from app.api.schemas import StaffArgs, StorePatchSchema, StoreSchema
from app.errors import StoreError
from app.stores import service as stores

blp = page_blueprint("console_config_stores", __name__)
PAGE_SIZE = 50
STORE_FIELDS = [
    Field("code", "门店编码", hint="印在门店小程序码上，创建后不可改"),
    Field("name", "名称"),
    Field("address", "地址"),
    Field("opening_hours", "营业时间", hint="如 10:00-22:00"),
    Field("latitude", "纬度", hint="GCJ-02（腾讯地图坐标）"),
    Field("longitude", "经度"),
]
STAFF_FIELDS = [
    Field("username", "用户名"),
    Field("name", "姓名"),
    Field("password", "初始密码（8–128 位）", kind="password"),
    Field("role", "角色"),
]


@blp.get("/config/stores")
def index(errors=None):
    cursor, _ = page_args()
    creating = form_view(StoreSchema(), STORE_FIELDS, errors=errors, action=url_for(".create"),
                         form_id="create-store")
    html = render_template("console/config_stores.html", **page(stores.stores_page(cursor, PAGE_SIZE + 1), PAGE_SIZE),
                           form=creating)
    return html, 422 if errors else 200


@blp.post("/config/stores")
def create():
    def created(args):
        store = stores.create_store(**args)
        return flash_and_redirect(f"已添加门店 {store.name}", ".store", store_id=store.id)

    return submit(lambda: StoreSchema().load(read(StoreSchema(), STORE_FIELDS)), created, index,
                  {StoreError.STORE_CODE_TAKEN: "code"})


@blp.get("/config/stores/<int:store_id>")
def store(store_id, errors=None, staff_errors=None, password_errors=None):
    found = stores.get_store(store_id)
    cursor, _ = page_args()
    editing = form_view(StorePatchSchema(), STORE_FIELDS, found, errors, action=url_for(".update", store_id=store_id),
                        form_id="edit-store")
    adding = form_view(StaffArgs(), STAFF_FIELDS, errors=staff_errors, action=url_for(".create_staff",
                                                                                       store_id=store_id),
                       form_id="create-staff")
    html = render_template("console/config_store.html", title=f"门店 {found.name}", store=found, form=editing,
                           staff_form=adding, password_errors=password_errors or {}, back=url_for(".index"),
                           choice_names=CHOICE_NAMES,
                           staff=page(stores.staff_page(store_id, cursor, PAGE_SIZE + 1), PAGE_SIZE))
    return html, 422 if errors or staff_errors or password_errors else 200


@blp.post("/config/stores/<int:store_id>")
def update(store_id):
    def updated(args):
        saved = stores.update_store(store_id, **args)
        return flash_and_redirect(f"已保存门店 {saved.name}", ".store", store_id=store_id)

    return submit(lambda: StorePatchSchema().load(read(StorePatchSchema(), STORE_FIELDS)), updated,
                  lambda errors: store(store_id, errors))


@blp.post("/config/stores/<int:store_id>/staff")
def create_staff(store_id):
    def created(args):
        staff = stores.create_staff(store_id, **args)
        return flash_and_redirect(f"已添加店员 {staff.username}", ".store", store_id=store_id)

    return submit(lambda: StaffArgs().load(read(StaffArgs(), STAFF_FIELDS)), created,
                  lambda errors: store(store_id, staff_errors=errors), {StoreError.USERNAME_TAKEN: "username"})


# the store in the path is the page to come back to; the service finds the account by its id
@blp.post("/config/stores/<int:store_id>/staff/<int:staff_id>/disable", defaults={"active": False})
@blp.post("/config/stores/<int:store_id>/staff/<int:staff_id>/enable", defaults={"active": True})
def set_staff_active(store_id, staff_id, active):
    staff = stores.set_staff_active(staff_id, active, actor=actor())
    return flash_and_redirect(f"已{'启用' if active else '停用'}店员 {staff.username}", ".store", store_id=store_id)


@blp.post("/config/stores/<int:store_id>/staff/<int:staff_id>/password")
def reset_staff_password(store_id, staff_id):
    try:
        args = PasswordResetArgs().load({"password": request.form.get("password", "")})
    except ValidationError as error:
        return store(store_id, password_errors={staff_id: error.messages["password"]})
    staff = stores.reset_staff_password(staff_id, args["password"], actor=actor())
    return flash_and_redirect(f"已重置店员 {staff.username} 的密码，其登录已失效", ".store", store_id=store_id)
