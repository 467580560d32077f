"""flask-smorest's Blueprint, with each argument schema built once and JSON bodies required."""
import flask_smorest
from marshmallow import ValidationError
from webargs import missing
from webargs.flaskparser import FlaskParser

BODY_REQUIRED = "A JSON body is required."


class BodyRequiredParser(FlaskParser):
    """webargs reads an empty body as an empty object, so a PATCH without one would answer 200
    having changed nothing. The document says every JSON body is required: so is it here."""

    def load_json(self, req, schema):
        data = super().load_json(req, schema)
        if data is missing:
            raise ValidationError([BODY_REQUIRED])
        return data


class Blueprint(flask_smorest.Blueprint):
    ARGUMENTS_PARSER = BodyRequiredParser()

    def arguments(self, schema, *args, **kwargs):
        """Given a schema class, webargs builds an instance of it for every request (a deep
        copy of every field); an instance built here once serves them all."""
        return super().arguments(schema() if isinstance(schema, type) else schema, *args, **kwargs)
