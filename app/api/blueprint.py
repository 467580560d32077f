"""flask-smorest's Blueprint, with each argument schema built once."""
import flask_smorest


class Blueprint(flask_smorest.Blueprint):
    def arguments(self, schema, *args, **kwargs):
        """Given a schema class, webargs builds an instance of it for every request (a deep
        copy of every field); an instance built here once serves them all."""
        return super().arguments(schema() if isinstance(schema, type) else schema, *args, **kwargs)
