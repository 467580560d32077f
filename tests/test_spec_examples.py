"""Every example in /openapi.json is valid against its own schema. Those that name things (coupon
templates, message templates, payload fields) name what `flask demo-data` holds: tests/test_openapi.py
pastes them against the demo data (one load of it, which is slow)."""
from openapi_schema_validator import OAS30Validator

from tests.helpers import Caller

SCHEMA_KEYS = {"type", "$ref", "allOf", "oneOf", "anyOf"}


def _examples(node, where: str = ""):
    """(where, example, schema) for every example of a schema, a parameter or a media type."""
    if isinstance(node, dict):
        if "example" in node and SCHEMA_KEYS & node.keys():
            yield where, node["example"], {key: value for key, value in node.items() if key != "example"}
        if "schema" in node:  # a parameter or a media type: its examples are of its schema
            if "example" in node:
                yield where, node["example"], node["schema"]
            for name, example in node.get("examples", {}).items():
                yield f"{where}/examples/{name}", example.get("value"), node["schema"]
        for key, value in node.items():
            yield from _examples(value, f"{where}/{key}")
    elif isinstance(node, list):
        for at, value in enumerate(node):
            yield from _examples(value, f"{where}[{at}]")


def test_every_example_is_valid_against_its_own_schema(app):
    spec = Caller(app).get("/openapi.json").json
    examples = list(_examples(spec["paths"], "paths")) + list(_examples(spec["components"], "components"))
    assert len(examples) >= 10, "no examples found: the walk is broken"
    invalid = [f"{where}: {error.message}" for where, example, schema in examples
               for error in OAS30Validator({**schema, "components": spec["components"]}).iter_errors(example)]
    assert invalid == []
