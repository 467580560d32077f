"""配置 · 任务: the tasks (create, edit, delete one nobody started), through the admin API's
service and schemas (app/api/admin_engagement.py)."""
from flask import render_template, url_for

from app.api.console.config_forms import CHOICE_NAMES, Field, form_view, read, submit
from app.api.console.forms import page_args
from app.api.console.pages import flash_and_redirect, page_blueprint
from app.api.engagement_schemas import TaskPatchSchema, TaskSchema
from app.api.pagination import page
from app.engagement import tasks

blp = page_blueprint("console_config_tasks", __name__)
PAGE_SIZE = 50
TASK_FIELDS = [
    Field("title", "标题"),
    Field("description", "说明"),
    Field("kind", "类型", hint="创建后不可改"),
    Field("target", "目标次数"),
    Field("recurrence", "周期", hint="创建后不可改"),
    Field("reward_points", "奖励积分"),
    Field("reward_growth", "奖励成长值"),
    Field("reward_makeup_cards", "奖励补签卡"),
    Field("auto_pay", "完成即自动发放奖励", hint="不勾选：会员手动领取"),
    Field("enabled", "启用"),
    Field("starts_at", "开始时间", hint="空：立即"),
    Field("ends_at", "结束时间", hint="空：长期"),
    Field("sort_order", "排序", hint="小的在前"),
    Field("page_path", "去完成的页面", hint="如 pages/checkin/index；空：按类型的默认页面"),
]


@blp.get("/config/tasks")
def index(errors=None):
    cursor, _ = page_args()
    creating = form_view(TaskSchema(), TASK_FIELDS, errors=errors, action=url_for(".create"), form_id="create-task")
    html = render_template("console/config_tasks.html", **page(tasks.tasks_page(cursor, PAGE_SIZE + 1), PAGE_SIZE),
                           form=creating, choice_names=CHOICE_NAMES)
    return html, 422 if errors else 200


@blp.post("/config/tasks")
def create():
    def created(args):
        task = tasks.create_task(**args)
        return flash_and_redirect(f"已添加任务 {task.title}", ".index")

    return submit(lambda: TaskSchema().load(read(TaskSchema(), TASK_FIELDS)), created, index)


@blp.get("/config/tasks/<int:task_id>")
def task(task_id, errors=None):
    found = tasks.get_task(task_id)
    editing = form_view(TaskPatchSchema(), TASK_FIELDS, found, errors, action=url_for(".update", task_id=task_id),
                        form_id="edit-task")
    html = render_template("console/config_task.html", title=f"任务 {found.title}", form=editing, task=found,
                           back=url_for(".index"))
    return html, 422 if errors else 200


@blp.post("/config/tasks/<int:task_id>")
def update(task_id):
    def updated(args):
        saved = tasks.update_task(task_id, **args)
        return flash_and_redirect(f"已保存任务 {saved.title}", ".index")

    return submit(lambda: TaskPatchSchema().load(read(TaskPatchSchema(), TASK_FIELDS)), updated,
                  lambda errors: task(task_id, errors))


@blp.post("/config/tasks/<int:task_id>/delete")
def delete(task_id):
    """Only a task nobody started (409 TASK_IN_USE otherwise: disable it instead)."""
    tasks.delete_task(task_id)
    return flash_and_redirect("已删除任务", ".index")
