"""Reading the configuration pages' forms in tests (app/api/console/config_macros.html)."""
import re

FIELD_ERROR = re.compile(r'class="field-error"[^>]*>([^<]*)<')


def field_errors(reply) -> list[str]:
    """The messages beside the form's fields (and above them: those no field shows)."""
    return FIELD_ERROR.findall(reply.get_data(as_text=True))


def kept(reply, name: str, value: str) -> bool:
    """Whether the form shows the field with the value typed."""
    return f'name="{name}" type="text" value="{value}"' in reply.get_data(as_text=True) or \
        f'name="{name}" type="number" value="{value}"' in reply.get_data(as_text=True)
