"""The documentation names what the code has, with the defaults the code uses.

The README's snippets are checked by running them (scripts/fresh_install_check.py);
these tests keep the reference pages in docs/ from drifting: a new setting,
check id, signal, command, URL or template state that is not documented, or a
documented default that is not the real one, fails here.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from django.urls import get_resolver

from django_stripe_express import checks, signals
from django_stripe_express import checks as deployment_checks
from django_stripe_express import checks as embedded_checks
from django_stripe_express.conf import Settings, known_keys

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
PACKAGE = ROOT / "django_stripe_express"


def read(name: str) -> str:
    return (DOCS / name).read_text()


def setting_names() -> set[str]:
    return set(known_keys())


def documented_defaults() -> dict[str, str]:
    """``KEY -> default cell`` from the tables of docs/settings.md."""
    rows = re.findall(r"^\| `([A-Z_]+)` \| ([^|]+) \|", read("settings.md"), re.M)
    return {key: cell.strip() for key, cell in rows}


def test_every_setting_is_documented_once() -> None:
    rows = re.findall(r"^\| `([A-Z_]+)` \|", read("settings.md"), re.M)
    assert sorted(rows) == sorted(setting_names())


@pytest.mark.parametrize("key", sorted(setting_names() - {"SECRET_KEY", "CLIENT_ID"}))
def test_documented_default_is_the_real_one(key: str, settings) -> None:
    settings.STRIPE_EXPRESS = {}
    cell = documented_defaults()[key]
    literal = cell.strip("`")
    assert cell == f"`{literal}`", f"{key}: write the default as one code span"
    assert ast.literal_eval(literal) == getattr(Settings(), key)


def test_required_settings_say_so() -> None:
    defaults = documented_defaults()
    assert defaults["SECRET_KEY"] == "*required*"
    assert "required" in defaults["CLIENT_ID"]


def test_every_check_id_is_documented() -> None:
    modules = sorted(PACKAGE.glob("*checks.py"))
    known = (checks, deployment_checks, embedded_checks)
    assert {p.name for p in modules} >= {Path(m.__file__).name for m in known}
    source = "".join(p.read_text() for p in modules)
    in_code = {f"django_stripe_express.{i}" for i in re.findall(r'"([EW]\d{3})"', source)}
    in_docs = set(re.findall(r"`(django_stripe_express\.[EW]\d{3})`", read("checks.md")))
    assert in_code
    assert in_docs == in_code


def test_every_signal_is_documented() -> None:
    names = {n for n, v in vars(signals).items() if type(v).__name__ == "Signal"}
    table = set(re.findall(r"^\| `(\w+)` \|", read("signals.md"), re.M))
    assert names
    assert table == names


def test_every_command_is_documented() -> None:
    commands = {p.stem for p in (PACKAGE / "management" / "commands").glob("[!_]*.py")}
    headings = set(re.findall(r"^### `(\w+)`", read("admin.md"), re.M))
    assert commands
    assert headings == commands


def test_every_url_name_is_documented() -> None:
    resolver = get_resolver("django_stripe_express.urls")
    names = {name for name in resolver.reverse_dict if isinstance(name, str)}
    table = set(re.findall(r"^\| `(\w+)` \| `", read("flows.md"), re.M))
    assert names
    assert table == names


def test_every_button_state_template_is_documented() -> None:
    states = PACKAGE / "templates" / "django_stripe_express" / "states"
    names = {p.stem for p in states.glob("*.html")}
    text = read("templates.md")
    assert names
    assert {n for n in names if f"`{n}`" not in text} == set()


def test_readme_links_every_doc_and_every_link_resolves() -> None:
    readme = (ROOT / "README.md").read_text()
    linked = set(re.findall(r"\]\((docs/[\w-]+\.md)", readme))
    assert linked == {f"docs/{p.name}" for p in DOCS.glob("*.md")}
    for page in [ROOT / "README.md", *DOCS.glob("*.md")]:
        for target in re.findall(r"\]\(([^)#:]+\.md)", page.read_text()):
            assert (page.parent / target).is_file(), f"{page.name} links to missing {target}"


def logger_names() -> set[str]:
    """Every logger the package writes to: ``getLogger(__name__)`` or a named one."""
    names = set()
    for path in PACKAGE.rglob("*.py"):
        source = path.read_text()
        module = ".".join(path.relative_to(ROOT).with_suffix("").parts)
        if "getLogger(__name__)" in source:
            names.add(module.removesuffix(".__init__"))
        names.update(re.findall(r'getLogger\("([\w.]+)"\)', source))
    return names


def test_troubleshooting_names_every_logger() -> None:
    table = read("troubleshooting.md")
    documented = set(re.findall(r"^\| `(django_stripe_express[\w.]*)`", table, re.M))
    assert logger_names()
    assert documented == logger_names()


def test_troubleshooting_explains_every_message_a_failed_flow_shows() -> None:
    from django_stripe_express import stripe_api as diagnostics
    from django_stripe_express import stripe_api as stripe_failures
    from django_stripe_express.onboarding import common as outcomes

    text = " ".join(read("troubleshooting.md").split())
    shown = [*outcomes.MESSAGES.values(), outcomes.DEFAULT_MESSAGE, diagnostics.MESSAGE,
             stripe_failures.GONE_MESSAGE]
    missing = [str(m) for m in shown if f'"{m}"' not in text]
    assert missing == []
