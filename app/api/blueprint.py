"""flask-smorest's Blueprint, with each argument schema built once, JSON bodies required, and
every operation named, summarised and given the error codes it answers (and, for a @mutation,
the Idempotency-Key header) in the document without the view having to remember (a view
declares only the codes of its own rules: `@blp.errors`)."""
import flask_smorest
from marshmallow import ValidationError
from webargs import missing
from webargs.flaskparser import FlaskParser

from app.api.error_docs import declared, error_responses, operation_codes
from app.api.idempotency import HEADER_PARAMETER

BODY_REQUIRED = "A JSON body is required."


class BodyRequiredParser(FlaskParser):
    """webargs reads an empty body as an empty object, so a PATCH without one would answer 200
    having changed nothing. The document says every JSON body is required: so is it here."""

    def load_json(self, req, schema):
        data = super().load_json(req, schema)
        if data is missing:
            raise ValidationError([BODY_REQUIRED])
        return data


def first_clause(text: str) -> str:
    """Up to the first full stop, colon or semicolon outside parentheses: the summary of a docstring."""
    depth = 0
    for at, char in enumerate(text):
        depth += (char in "(（") - (char in ")）")
        ends_sentence = char in "。：；" or (char in ".:;" and text[at + 1:at + 2] in ("", " "))
        if depth == 0 and ends_sentence:
            return text[:at]
    return text


def operation_names(blueprint: str, endpoint: str, method: str, methods: int, docstring: str | None) -> dict:
    """operationId from the blueprint and the view (stable while the code keeps its names; the
    method added where one view serves several), summary from the docstring (or the view's name)."""
    operation_id = f"{blueprint}_{endpoint}" + (f"_{method}" if methods > 1 else "")
    text = " ".join((docstring or "").split())
    if not text:
        return {"operationId": operation_id, "summary": endpoint.replace("_", " ").capitalize()}
    summary = first_clause(text)
    return {"operationId": operation_id, "summary": summary,
            **({"description": text} if summary != text else {})}


class Blueprint(flask_smorest.Blueprint):
    ARGUMENTS_PARSER = BodyRequiredParser()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._prepare_doc_cbks += [self._document_idempotency_key, self._document_errors]

    @staticmethod
    def errors(*codes):
        """`@blp.errors(MallError.ITEM_OUT_OF_STOCK, ...)`: the codes of the view's own rules; those
        common to its kind (token, body, Idempotency-Key, ...) are added for it (app/api/error_docs.py)."""
        codes = declared(codes)

        def decorate(view):
            view.error_codes = (*getattr(view, "error_codes", ()), *codes)
            return view

        return decorate

    @staticmethod
    def _document_idempotency_key(doc, doc_info, **kwargs):
        """A @mutation operation lists the Idempotency-Key header among its parameters."""
        if getattr(doc_info["view"], "takes_idempotency_key", False):
            doc.setdefault("parameters", []).append({**HEADER_PARAMETER})
        return doc

    def _document_errors(self, doc, doc_info, *, app, method, **kwargs):
        """The last of smorest's doc callbacks: the operation's codes and a response per status."""
        rule = next(app.url_map.iter_rules(f"{self.name}.{doc_info['endpoint']}"))
        audiences = [hook.audience for hook in self.before_request_funcs.get(None, []) if hasattr(hook, "audience")]
        codes = operation_codes(doc_info["view"], method, rule, audiences[0] if audiences else None)
        doc["x-error-codes"] = codes
        doc.setdefault("responses", {}).update(error_responses(codes))
        return doc

    def arguments(self, schema, *args, **kwargs):
        """Given a schema class, webargs builds an instance of it for every request (a deep
        copy of every field); an instance built here once serves them all."""
        return super().arguments(schema() if isinstance(schema, type) else schema, *args, **kwargs)

    def _store_endpoint_docs(self, endpoint, obj, parameters, tags, **options):
        super()._store_endpoint_docs(endpoint, obj, parameters, tags, **options)
        methods = {method: doc for method, doc in self._docs[endpoint].items() if method != "parameters"}
        for method, doc in methods.items():
            names = operation_names(self.name, endpoint, method, len(methods), obj.__doc__)
            doc["docstring"] = {}  # replaced by the names, which the view's manual doc may still override
            doc["endpoint"], doc["view"] = endpoint, obj  # for the error codes (_document_errors)
            doc["manual_doc"] = {**names, **doc.get("manual_doc", {})}
