"""The package's architecture rules, measured from files, imports and real requests.

Everything here is generic: modules are found by walking the files of
``django_stripe_express/``, never by today's names, so the rules keep holding
(or failing) as modules are renamed, merged or moved.

Terms:

* A *module* is a ``.py`` file of the package, named by its path relative to
  the package directory (``webhooks/receive.py``). *Production* modules are all
  of them except those under ``testing/`` and ``migrations/``; a package
  ``__init__.py`` with no statement but its docstring is *empty* and is not
  counted.
* An *import edge* ``a -> b`` is an ``import`` or ``from ... import``
  statement anywhere in ``a``'s AST (module level, in functions, under ``if``
  and ``try``, ``TYPE_CHECKING`` included), relative or absolute, whose target
  is a module of the package: ``import p.x.y`` -> ``x/y.py``;
  ``from p.x import n`` -> ``x/n.py`` if ``n`` is a submodule, else ``x.py`` or
  ``x/__init__.py``. Only the named target counts, not the parent packages'
  ``__init__`` that Python also runs. The onboarding rule looks at direct
  edges: ``webhooks/``, ``templatetags/``, ``admin/`` and any ``sync.py`` may
  not import a module under ``onboarding/`` (or ``onboarding.py``).
* A *walk* is one request profiled with ``sys.setprofile`` in the test's
  thread (the Django test client runs the view there; the fake Stripe answers
  from its own server thread, which is not traced). The request runs inside
  ``django_capture_on_commit_callbacks(execute=True)``, so what the app defers
  to the commit (its signals) runs as in production. All production modules and
  the URLconf are imported first, so that import-time code is never counted
  and the figures do not depend on the order the tests run in.
  A module *runs* when a Python frame whose ``co_filename`` is that module
  starts or resumes. Not counted (and transparent, as code outside the package
  is): the settings module ``conf.py``, ``testing/`` and ``migrations/``.
  *Switches*: on every ``call`` and ``return`` event the profiler computes the
  innermost counted package module on the call stack (frames outside the
  package are skipped); when no package frame is on the stack the value keeps
  its last package module. Each change of that value from one package module
  to a different one is a switch: ``a`` calling ``b`` is one, ``b`` returning
  to ``a`` another, and ``a`` returning to Django which then calls ``b`` is one.

Printing the walks (modules in order of first entry, count, switches) for a
before/after comparison: ``python scripts/walks.py`` (it runs the three
``test_walk_*`` tests with ``STRIPE_EXPRESS_PRINT_WALKS=1`` and ``-s``).
"""

from __future__ import annotations

import ast
import importlib
import itertools
import os
import sys
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from types import FrameType
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.urls import get_resolver, reverse

import django_stripe_express
from django_stripe_express.models import ExpressAccount

from .account_links_support import only_v2
from .factories import ExpressAccountFactory
from .templatetag_support import button
from .test_webhook_thin import UPDATED, stored_v2_account, thin

PACKAGE = django_stripe_express.__name__
PACKAGE_DIR = Path(django_stripe_express.__file__).resolve().parent
NOT_PRODUCTION = ("testing", "migrations")
SETTINGS_MODULE = "conf.py"

MAX_PRODUCTION_MODULES = 32
#: Top-level packages (or modules) that must not import from onboarding.
ONBOARDING = "onboarding"
KEPT_FROM_ONBOARDING = ("webhooks", "templatetags", "admin")
KEPT_FROM_ONBOARDING_STEMS = ("sync",)  # the module sync.py, wherever it lives
PRINT_WALKS = os.environ.get("STRIPE_EXPRESS_PRINT_WALKS", "") not in ("", "0")


# --- Modules and imports ---------------------------------------------------


@dataclass(frozen=True)
class Module:
    name: str  # dotted: django_stripe_express.webhooks.receive
    rel: str  # path in the package: webhooks/receive.py
    path: Path
    is_package: bool

    @property
    def parts(self) -> tuple[str, ...]:
        """The dotted name's parts below the package: ("webhooks", "http")."""
        return tuple(self.name.split(".")[1:])

    @property
    def production(self) -> bool:
        return not (self.parts and self.parts[0] in NOT_PRODUCTION)

    @property
    def empty(self) -> bool:
        """An ``__init__.py`` with nothing but (at most) a docstring."""
        if not self.is_package:
            return False
        body = ast.parse(self.path.read_text(encoding="utf-8")).body
        if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
            body = body[1:]
        return not body


@dataclass(frozen=True)
class Edge:
    source: str  # rel paths
    target: str
    line: int
    where: str  # "module level", "in f()", "under TYPE_CHECKING"...

    def __str__(self) -> str:
        return f"{self.source}:{self.line} imports {self.target} ({self.where})"


@cache
def modules() -> dict[str, Module]:
    """Every module of the package (``testing/`` and ``migrations/`` included), by name."""
    found = {}
    for path in sorted(PACKAGE_DIR.rglob("*.py")):
        rel = path.relative_to(PACKAGE_DIR)
        if "__pycache__" in rel.parts:
            continue
        is_package = rel.name == "__init__.py"
        parts = rel.parts[:-1] if is_package else (*rel.parts[:-1], rel.stem)
        name = ".".join((PACKAGE, *parts))
        found[name] = Module(name, rel.as_posix(), path, is_package)
    return found


def production_modules() -> list[Module]:
    return [m for m in modules().values() if m.production and not m.empty]


def _resolve_from(module: Module, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    package = module.name if module.is_package else module.name.rpartition(".")[0]
    base = package.split(".")
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, *([node.module] if node.module else [])])


def _deepest(name: str) -> str | None:
    """The longest prefix of ``name`` that is a module of the package."""
    parts = name.split(".")
    for end in range(len(parts), 0, -1):
        candidate = ".".join(parts[:end])
        if candidate in modules():
            return candidate
    return None


def _statements(node: ast.AST, where: str = "module level") -> Iterator[tuple[ast.AST, str]]:
    """Every node under ``node`` (the whole AST) with where it sits, for the messages."""
    for child in ast.iter_child_nodes(node):
        yield child, where
        if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
            for statement in child.body:
                yield statement, f"{where}, under TYPE_CHECKING"
                yield from _statements(statement, f"{where}, under TYPE_CHECKING")
            for statement in child.orelse:
                yield statement, where
                yield from _statements(statement, where)
        elif isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
            yield from _statements(child, f"in {child.name}()")
        else:
            yield from _statements(child, where)


@cache
def edges() -> tuple[Edge, ...]:
    """Every import edge between modules of the package (see the module docstring)."""
    by_name = modules()
    found = []
    for module in by_name.values():
        tree = ast.parse(module.path.read_text(encoding="utf-8"), filename=str(module.path))
        for node, where in _statements(tree):
            targets: list[str | None] = []
            if isinstance(node, ast.Import):
                targets = [_deepest(alias.name) for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = _resolve_from(module, node)
                for alias in node.names:
                    sub = f"{base}.{alias.name}"
                    targets.append(sub if sub in by_name else _deepest(base))
            for target in targets:
                if target is not None:
                    found.append(Edge(module.rel, by_name[target].rel, node.lineno, where))
    return tuple(sorted(set(found), key=lambda e: (e.source, e.line, e.target)))


def graph() -> dict[str, set[str]]:
    result: dict[str, set[str]] = {m.rel: set() for m in modules().values()}
    for edge in edges():
        result[edge.source].add(edge.target)
    return result


def strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's components that hold a cycle (several modules, or one importing itself)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1 or node in graph[node]:
                found.append(sorted(component))

    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 10 * len(graph) + 100))
    try:
        for node in sorted(graph):
            if node not in index:
                visit(node)
    finally:
        sys.setrecursionlimit(limit)
    return sorted(found)


def shortest_cycle(graph: dict[str, set[str]], start: str, within: set[str]) -> list[str]:
    """A shortest import path from ``start`` back to itself inside one component."""
    previous: dict[str, str] = {}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        for nxt in sorted(graph[node] & within):
            if nxt == start:
                path = [node]
                while path[-1] != start:
                    path.append(previous[path[-1]])
                return [start, *reversed(path[:-1]), start] if node != start else [start, start]
            if nxt not in previous:
                previous[nxt] = node
                queue.append(nxt)
    raise AssertionError(f"no cycle through {start}")


def describe_cycles() -> list[str]:
    g = graph()
    first = {(e.source, e.target): e for e in reversed(edges())}  # first line wins
    described = []
    for component in strongly_connected(g):
        cycle = shortest_cycle(g, component[0], set(component))
        steps = " -> ".join(
            f"{a} (line {first[a, b].line}, {first[a, b].where})"
            for a, b in itertools.pairwise(cycle)
        )
        described.append(
            f"cycle: {steps} -> {cycle[-1]}\n    (its component, {len(component)} modules: "
            f"{', '.join(component)})"
        )
    return described


# --- Rules on files and imports --------------------------------------------


def test_at_most_32_production_modules():
    counted = production_modules()
    if len(counted) > MAX_PRODUCTION_MODULES:
        pytest.fail(
            f"{len(counted)} production modules (limit {MAX_PRODUCTION_MODULES}):\n  "
            + "\n  ".join(m.rel for m in counted),
            pytrace=False,
        )


def test_production_code_never_imports_the_testing_package():
    production = {m.rel for m in modules().values() if m.production}
    wrong = [
        str(e) for e in edges()
        if e.source in production and e.target.startswith(f"{NOT_PRODUCTION[0]}/")
    ]
    if wrong:
        pytest.fail("production code imports testing/:\n  " + "\n  ".join(wrong), pytrace=False)


def _kept_from_onboarding(module: Module) -> bool:
    parts = module.parts
    return module.production and bool(parts) and (
        parts[0] in KEPT_FROM_ONBOARDING or parts[-1] in KEPT_FROM_ONBOARDING_STEMS
    )


def test_webhooks_sync_templatetags_and_admin_import_nothing_from_onboarding():
    kept = {m.rel for m in modules().values() if _kept_from_onboarding(m)}
    assert kept, "no module found under webhooks/, templatetags/, admin/ or named sync.py"
    onboarding = {m.rel for m in modules().values() if m.parts[:1] == (ONBOARDING,)}
    wrong = [str(e) for e in edges() if e.source in kept and e.target in onboarding]
    if wrong:
        pytest.fail("imports from onboarding/:\n  " + "\n  ".join(wrong), pytrace=False)


def test_no_import_cycle_in_the_package():
    cycles = describe_cycles()
    if cycles:
        pytest.fail(f"{len(cycles)} import cycle(s):\n  " + "\n  ".join(cycles), pytrace=False)


def test_the_import_graph_sees_what_it_must():
    """The measurement itself: relative, absolute, submodule and function-level imports."""
    names = modules()
    assert f"{PACKAGE}.testing" in names
    assert all(m.rel.startswith(("testing/", "migrations/")) for m in names.values()
               if not m.production)
    assert _resolve_from(
        names[f"{PACKAGE}.webhooks"], ast.ImportFrom(module="receive", names=[], level=1)
    ) == f"{PACKAGE}.webhooks.receive"
    assert _resolve_from(
        names[f"{PACKAGE}.webhooks.receive"], ast.ImportFrom(module=None, names=[], level=2)
    ) == PACKAGE
    assert _deepest(f"{PACKAGE}.testing.fake.FakeStripe") == f"{PACKAGE}.testing.fake"
    g = {"a": {"b"}, "b": {"c"}, "c": {"a", "d"}, "d": set(), "e": {"e"}}
    assert strongly_connected(g) == [["a", "b", "c"], ["e"]]
    assert shortest_cycle(g, "a", {"a", "b", "c"}) == ["a", "b", "c", "a"]
    assert shortest_cycle(g, "e", {"e"}) == ["e", "e"]


# --- Walks ------------------------------------------------------------------


@cache
def _package_module(filename: str) -> str | None:
    """The counted package module a code object's file is, or None."""
    try:
        rel = Path(os.path.realpath(filename)).relative_to(PACKAGE_DIR)
    except ValueError:
        return None
    if rel.suffix != ".py" or rel.parts[0] in NOT_PRODUCTION or rel.as_posix() == SETTINGS_MODULE:
        return None
    return rel.as_posix()


@dataclass
class Walk:
    """The package modules one request runs (see "walk" in the module docstring)."""

    name: str
    modules: list[str] = field(default_factory=list)
    switches: int = 0
    on_commit: list[Any] = field(default_factory=list)  # the callbacks run at the commit
    _current: str | None = None

    def _enter(self, module: str) -> None:
        if module not in self.modules:
            self.modules.append(module)
        if self._current is not None and module != self._current:
            self.switches += 1
        self._current = module

    def profile(self, frame: FrameType, event: str, arg: Any) -> None:
        if event == "call":
            module = _package_module(frame.f_code.co_filename)
            if module is not None:
                self._enter(module)
        elif event == "return" and _package_module(frame.f_code.co_filename) is not None:
            back = frame.f_back
            while back is not None:
                module = _package_module(back.f_code.co_filename)
                if module is not None:
                    self._enter(module)
                    break
                back = back.f_back

    def report(self) -> str:
        listed = "\n".join(f"  {i:2}. {m}" for i, m in enumerate(self.modules, 1))
        return (
            f"{self.name}: {len(self.modules)} package modules, "
            f"{self.switches} switches\n{listed}"
        )

    def check(self, limit: int) -> None:
        if PRINT_WALKS:
            print(f"\n{self.report()}\n", flush=True)
        if len(self.modules) > limit:
            pytest.fail(f"more than {limit} package modules run. {self.report()}", pytrace=False)


@pytest.fixture
def walk(db, django_capture_on_commit_callbacks):
    """``with walk(name) as w:`` profiles the block, committed as in production."""
    for module in production_modules():
        importlib.import_module(module.name)
    get_resolver().url_patterns  # noqa: B018  (Django imports the URLconf on first use)

    @contextmanager
    def profiled(name: str) -> Iterator[Walk]:
        result = Walk(name)
        previous = sys.getprofile()
        sys.setprofile(result.profile)
        try:
            with django_capture_on_commit_callbacks(execute=True) as callbacks:
                result.on_commit = callbacks
                yield result
        finally:
            sys.setprofile(previous)

    return profiled


def test_the_walk_counts_modules_and_switches():
    def frame(rel: str, back: Any = None) -> Any:
        class Code:
            co_filename = str(PACKAGE_DIR / rel)

        class Frame:
            f_code, f_back = Code, back

        return Frame

    outside = frame("../elsewhere.py")
    views = frame("views.py", outside)
    conf = frame(SETTINGS_MODULE, views)
    status = frame("status.py", conf)
    fake = frame("testing/fake.py", status)
    w = Walk("synthetic")
    for f, event in [(views, "call"), (conf, "call"), (status, "call"), (fake, "call"),
                     (fake, "return"), (status, "return"), (conf, "return"),
                     (views, "return"), (frame("models.py", outside), "call")]:
        w.profile(f, event, None)
    # views -> status (through conf), status -> views, views ... (outside) -> models.
    assert (w.modules, w.switches) == (["views.py", "status.py", "models.py"], 3)


@only_v2
def test_walk_connect_with_account_links_v2(logged_in_client, account_links_mode, walk):
    """POST connect for a user without an account: a v2 account, an Account Link, a redirect."""
    url = reverse("stripe_express:connect")
    with walk("POST stripe_express:connect (account_links, v2, new user)") as w:
        response = logged_in_client.post(url)

    assert response.status_code == 302
    assert response["Location"].startswith(f"{account_links_mode.url}/setup/")
    assert len(account_links_mode.creates()) == len(account_links_mode.links()) == 1
    assert ExpressAccount.objects.get().accounts_api == "v2"
    w.check(8)


def test_walk_thin_event_account_updated(db, client, fake_stripe, walk):
    """A signed v2.core.account.updated for a stored v2 account that finished onboarding."""
    account = stored_v2_account(fake_stripe)
    fake_stripe.complete_onboarding(account.stripe_id)
    body, header = fake_stripe.signed(thin(fake_stripe, UPDATED, account.stripe_id, 1))
    url = reverse("stripe_express:thin_webhook")

    with walk(f"POST stripe_express:thin_webhook ({UPDATED})") as w:
        response = client.post(url, data=body,
                               content_type="application/json", HTTP_STRIPE_SIGNATURE=header)

    assert (response.status_code, response.content) == (200, b"processed")
    assert w.on_commit  # the signals, sent after the commit, ran inside the walk
    account.refresh_from_db()
    assert account.status == ExpressAccount.Status.ENABLED
    w.check(9)


def test_walk_button_for_an_enabled_account(db, walk):
    account = ExpressAccountFactory()
    user = get_user_model().objects.get(pk=account.user_id)  # as a request loads it

    with walk("{% stripe_express_button %} (enabled account)") as w:
        page = button(user)

    assert page.status == ExpressAccount.Status.ENABLED
    w.check(5)
