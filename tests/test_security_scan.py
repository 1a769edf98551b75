"""What a security scanner (bandit) flags in the package stays out of it.

Bandit's B308/B703 flag every ``mark_safe`` call: an empty answer is an empty
`SafeString`, and HTML is built with ``format_html`` or a template.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "django_stripe_express"


def _production_modules() -> list[Path]:
    return [
        path for path in PACKAGE.rglob("*.py")
        if "testing" not in path.relative_to(PACKAGE).parts
        and "migrations" not in path.relative_to(PACKAGE).parts
    ]


def _calls(tree: ast.AST, name: str) -> list[int]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            called = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
            if called == name:
                found.append(node.lineno)
    return found


def test_no_module_calls_mark_safe():
    flagged = {
        str(path.relative_to(PACKAGE)): lines
        for path in _production_modules()
        if (lines := _calls(ast.parse(path.read_text()), "mark_safe"))
    }
    assert flagged == {}
