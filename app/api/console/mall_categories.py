"""积分商城 · 分类: the mall's categories (the tabs members see), added, renamed, reordered and
deleted through the admin API's service and schemas (app/api/admin_mall.py). A handful, on one
page in the members' order; one that still holds items is not deleted (the service refuses)."""
from flask import render_template, url_for

from app.api.console.config_forms import Field, form_view, read, submit
from app.api.console.pages import flash_and_redirect, page_blueprint
from app.api.mall_order_schemas import CategoryPatchSchema, CategorySchema
from app.mall import categories

blp = page_blueprint("console_mall_categories", __name__)
CATEGORY_FIELDS = [
    Field("name", "名称", hint="小程序积分商城的分类标签"),
    Field("sort_order", "排序", hint="数字小的在前；相同时先建的在前"),
]


@blp.get("/mall/categories")
def index(errors=None):
    creating = form_view(CategorySchema(), CATEGORY_FIELDS, errors=errors, action=url_for(".create"),
                         form_id="create-category")
    html = render_template("console/mall_categories.html", categories=categories.all_categories(), form=creating)
    return html, 422 if errors else 200


@blp.post("/mall/categories")
def create():
    def created(args):
        category = categories.create_category(**args)
        return flash_and_redirect(f"已添加分类 {category.name}", ".index")

    return submit(lambda: CategorySchema().load(read(CategorySchema(), CATEGORY_FIELDS)), created, index)


@blp.get("/mall/categories/<int:category_id>")
def category(category_id, errors=None):
    found = categories.get_category(category_id)
    editing = form_view(CategoryPatchSchema(), CATEGORY_FIELDS, found, errors,
                        action=url_for(".update", category_id=category_id), form_id="edit-category")
    html = render_template("console/config_edit.html", title=f"分类 {found.name}", form=editing,
                           back=url_for(".index"))
    return html, 422 if errors else 200


@blp.post("/mall/categories/<int:category_id>")
def update(category_id):
    def updated(args):
        saved = categories.update_category(category_id, **args)
        return flash_and_redirect(f"已保存分类 {saved.name}", ".index")

    return submit(lambda: CategoryPatchSchema().load(read(CategoryPatchSchema(), CATEGORY_FIELDS)), updated,
                  lambda errors: category(category_id, errors))


@blp.post("/mall/categories/<int:category_id>/delete")
def delete(category_id):
    name = categories.get_category(category_id).name
    categories.delete_category(category_id)  # CATEGORY_IN_USE: the error page says to move its items first
    return flash_and_redirect(f"已删除分类 {name}", ".index")
