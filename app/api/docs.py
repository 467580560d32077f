"""The docs pages /docs (Swagger UI) and /redoc (ReDoc), with their scripts served from
pinned copies in app/api/docs_static (no CDN: they work offline). API_DOCS=0 turns both
pages and their assets off (the default in production); /openapi.json stays."""
from pathlib import Path

from apispec import BasePlugin
from flask import Blueprint
from marshmallow import fields

ASSETS_URL = "/docs/assets"
SWAGGER_UI = "swagger-ui-5.35.0"
REDOC = "redoc-2.5.4"


def configure_docs(app) -> None:
    """Before the Api is bound: flask-smorest reads these settings when it registers the pages."""
    docs = app.config["API_DOCS"]
    app.config.update({
        "OPENAPI_SWAGGER_UI_PATH": "/docs" if docs else None,
        "OPENAPI_SWAGGER_UI_URL": f"{ASSETS_URL}/{SWAGGER_UI}/",
        # Swagger UI would send the document to validator.swagger.io for its badge
        "OPENAPI_SWAGGER_UI_CONFIG": {"validatorUrl": None},
        "OPENAPI_REDOC_PATH": "/redoc" if docs else None,
        "OPENAPI_REDOC_URL": f"{ASSETS_URL}/{REDOC}/redoc.standalone.js",
    })
    if docs:
        app.register_blueprint(Blueprint("docs_assets", __name__, static_url_path=ASSETS_URL,
                                         static_folder=str(Path(__file__).parent / "docs_static")))


class SchemaMetaPlugin(BasePlugin):
    """Documents what a schema's Meta says of its keys beyond its fields: `additional_properties`
    (the JSON schema of their values) and a whole-body `example` (as /docs pre-fills it)."""

    def schema_helper(self, name, definition, **kwargs):
        meta = getattr(kwargs.get("schema"), "Meta", None)
        documented = {"additionalProperties": getattr(meta, "additional_properties", None),
                      "example": getattr(meta, "example", None)}
        return {key: value for key, value in documented.items() if value is not None}


def dict_length(converter, field, ret: dict, **kwargs) -> dict:
    """A Length on a Dict bounds its keys: JSON Schema's minProperties/maxProperties, where apispec
    writes minLength/maxLength (a string's), which a validator or typed client would read wrong."""
    if not isinstance(field, fields.Dict):
        return {}
    bounds = {"minLength": "minProperties", "maxLength": "maxProperties"}
    return {bounds[key]: ret.pop(key) for key in list(ret) if key in bounds}
