"""The package uses only Django's public, documented APIs: no ORM compiler
internals, no hand-written SQL, no ``_state``.

Hosts upgrade Django on their own schedule; those internals changed between
Django 4.2 and 5.2 already. Read with `ast`, so a docstring or a comment may
name them (as this one does) but no code may use them.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "django_stripe_express"

#: Attributes and names no code of the package may use.
INTERNALS = {
    "get_compiler", "as_sql", "get_converters", "from_db", "_state", "quote_name",
    "cursor", "execute", "executemany", "RawSQL",
}
#: QuerySet methods that take SQL: flagged when called with SQL-ish arguments.
SQL_METHODS = {"raw": (), "extra": ("select", "where", "tables", "order_by", "params")}
SQL_STARTS = ("SELECT ", "INSERT ", "UPDATE ", "DELETE ", "WITH ")


def docstrings(tree: ast.AST) -> set[int]:
    """The ids of the docstring nodes in `tree` (prose, not code)."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                found.add(id(body[0].value))
    return found


def offences(source: str) -> list[str]:
    """What in `source` uses an internal or spells SQL: ``"line: what"`` each."""
    found = []
    tree = ast.parse(source)
    prose = docstrings(tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            keywords = SQL_METHODS.get(node.func.attr)
            if keywords is not None and (
                (node.args and isinstance(node.args[0], (ast.Constant, ast.JoinedStr)))
                or any(k.arg in keywords for k in node.keywords)
            ):
                found.append(f"{node.lineno}: {node.func.attr}()")
        name = None
        if isinstance(node, ast.Attribute):
            name = node.attr
        elif isinstance(node, ast.Name):
            name = node.id
        elif isinstance(node, ast.alias):
            name = node.name.rsplit(".", 1)[-1]
        if name in INTERNALS:
            found.append(f"{getattr(node, 'lineno', '?')}: {name}")
        text = None
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in prose:
            text = node.value
        elif isinstance(node, ast.JoinedStr) and node.values:
            first = node.values[0]
            text = first.value if isinstance(first, ast.Constant) else None
        if isinstance(text, str) and text.lstrip().startswith(SQL_STARTS):
            found.append(f"{node.lineno}: SQL {text.strip()[:30]!r}")
    return found


@pytest.mark.parametrize(
    "path", sorted(PACKAGE.rglob("*.py")), ids=lambda p: str(p.relative_to(PACKAGE))
)
def test_no_internals_and_no_sql(path: Path) -> None:
    assert offences(path.read_text()) == []


@pytest.mark.parametrize(
    "code",
    [
        "qs.query.get_compiler(using='default').as_sql()",
        "compiler.get_converters(expressions)",
        "Model.from_db('default', names, row)",
        "obj._state.adding = False",
        "connection.ops.quote_name('table')",
        "with connection.cursor() as c:\n    c.execute(sql)",
        "cursor.executemany(sql, rows)",
        "Model.objects.raw('x')",
        "Model.objects.extra(where=['1'])",
        "from django.db.models.expressions import RawSQL",
        "sql = 'SELECT * FROM t'",
        "sql = f'UPDATE {table} SET x = 1'",
        "sql = 'INSERT INTO t VALUES (1)'",
        "sql = f'WITH old AS ({read}) SELECT 1'",
    ],
)
def test_the_scan_finds_each_kind(code: str) -> None:
    assert offences(code), code


def test_the_scan_lets_plain_code_and_prose_through() -> None:
    code = (
        '"""Mentions get_compiler and SELECT in prose."""\n'
        "account.save(update_fields=['email'])\n"
        "Model.objects.select_for_update().filter(pk=1).update(x=1)\n"
        "message = 'Update the account with the new email'\n"
        "event.raw, conf.raw['KEY'], extra = {}\n"
    )
    assert offences(code) == []
