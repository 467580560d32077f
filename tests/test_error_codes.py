"""Error codes are enum members: a typo fails at import or here, never as a KeyError at run time."""
import ast
import json
from enum import auto
from pathlib import Path

import pytest

from app.errors import CATALOGUE, ERROR_CODES, AppError, ErrorCode, MallError, RequestError, catalogue, envelope

APP = Path(__file__).resolve().parent.parent / "app"


def test_a_code_is_its_name_and_carries_its_status_and_message():
    code = MallError.ITEM_NOT_FOUND
    assert code == "ITEM_NOT_FOUND" and str(code) == "ITEM_NOT_FOUND" and f"{code}" == "ITEM_NOT_FOUND"
    assert (code.status, code.message) == (404, "商品不存在")
    assert json.dumps(envelope(code, code.message)) == json.dumps(envelope("ITEM_NOT_FOUND", code.message))


def test_app_error_takes_the_member_and_refuses_a_string():
    error = AppError(MallError.ITEM_NOT_FOUND, details={"id": 3})
    assert (error.code, error.status, error.message, error.details) == ("ITEM_NOT_FOUND", 404, "商品不存在", {"id": 3})
    assert AppError(RequestError.RATE_LIMITED, "慢一点").message == "慢一点"
    code = "ITEM_NOT_FOUND"  # a variable: the codemod converts only literals in AppError(...)
    with pytest.raises(TypeError):
        AppError(code)
    with pytest.raises(AttributeError):
        MallError.ITEM_NOT_FOUNDD  # the typo is the point


def test_the_catalogue_is_every_enum_in_order():
    assert list(CATALOGUE) == [code.value for enum in ERROR_CODES for code in enum]
    assert all(issubclass(enum, ErrorCode) for enum in ERROR_CODES)
    assert CATALOGUE["ITEM_NOT_FOUND"] == (404, "商品不存在")


def test_a_code_in_two_enums_fails_at_import():
    class Again(ErrorCode):
        ITEM_NOT_FOUND = auto(), 404, "商品不存在"

    with pytest.raises(ValueError, match="ITEM_NOT_FOUND"):
        catalogue([MallError, Again])


def _string_codes(path: Path) -> list[str]:
    """`AppError("X")` calls and `"X"` literals naming a code, outside docstrings."""
    tree = ast.parse(path.read_text())
    docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                  if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef)) and node.body
                  and isinstance(node.body[0], ast.Expr)}
    return [f"{path.relative_to(APP.parent)}:{node.lineno} {node.value}" for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and node.value in CATALOGUE and id(node) not in docstrings]


def test_the_app_names_every_code_by_its_enum_member():
    """A string code would be a KeyError or TypeError at run time; run /work/wt/codemod_errors.py."""
    found = [hit for path in sorted(APP.rglob("*.py")) for hit in _string_codes(path)]
    assert found == []
