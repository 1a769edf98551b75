"""What setup.cfg promises and what CI installs: proven bounds, security
floors, pinned tools, and every package the tests import declared."""

from __future__ import annotations

import ast
import configparser
import re
import sys
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent
LOCAL = {"tests", "django_stripe_express", "example", "example_project", "conftest"}
# The last releases without fixes that matter here: Django 4.2's security
# releases up to 4.2.30, and requests before 2.32.4 leaked .netrc credentials
# to other hosts (CVE-2024-47081), with the secret key on the same path.
VULNERABLE = {"django": ["4.2.0", "4.2.29", "5.0.14", "5.1.15"], "requests": ["2.31.0", "2.32.3"]}
SUPPORTED_DJANGO = ["4.2.30", "5.2.0", "5.2.19", "6.0.0", "6.1.0", "6.1.3"]


def setup_cfg() -> configparser.ConfigParser:
    config = configparser.ConfigParser(interpolation=None)
    config.read(ROOT / "setup.cfg")
    return config


def requirements(text: str) -> list[Requirement]:
    lines = (line.split("#")[0].strip() for line in text.splitlines())
    return [Requirement(line) for line in lines if line and not line.startswith("%(")]


def install_requires() -> dict[str, Requirement]:
    reqs = requirements(setup_cfg()["options"]["install_requires"])
    return {canonicalize_name(r.name): r for r in reqs}


def extras() -> dict[str, list[Requirement]]:
    section = setup_cfg()["options.extras_require"]
    return {name: requirements(section[name]) for name in section}


def tox_django_series() -> list[str]:
    """The `<X.Y` upper bounds of the Django envs of tox.ini (dj42: ...)."""
    text = (ROOT / "tox.ini").read_text()
    return re.findall(r"^\s*dj\d+: Django>=[\d.]+,<([\d.]+)$", text, re.M)


def test_django_s_upper_bound_is_the_newest_series_tox_runs():
    bounds = tox_django_series()
    assert bounds, "tox.ini has no Django envs"
    newest = max(bounds, key=Version)
    django = install_requires()["django"]
    assert f"<{newest}" in str(django.specifier)
    assert not django.specifier.contains(newest)  # e.g. 6.2.0: not promised
    for version in SUPPORTED_DJANGO:
        assert django.specifier.contains(version), version


@pytest.mark.parametrize(("name", "version"), [
    (name, version) for name, versions in VULNERABLE.items() for version in versions
])
def test_versions_without_the_security_fixes_are_refused(name, version):
    assert not install_requires()[name].specifier.contains(version)


@pytest.mark.parametrize("extra", ["test", "browser", "dev"])
def test_tools_are_pinned_where_ci_installs_them(extra):
    found = extras()[extra]
    assert found
    loose = [str(r) for r in found if not re.fullmatch(r"==[\w.]+", str(r.specifier))]
    assert loose == []


def test_playwright_is_pinned_and_installed_only_from_the_extras():
    assert "playwright" in {canonicalize_name(r.name) for r in extras()["browser"]}
    for script in (ROOT / "scripts" / "test.sh", ROOT / ".ci" / "run"):
        text = script.read_text()
        assert not re.search(r"pip install[^\n]*\bplaywright\b", text), script
        assert re.search(r'pip install -q -e "\.\[[a-z,]*(dev|browser)', text), script


def test_tox_tools_match_the_pins():
    pins = {canonicalize_name(r.name): str(r.specifier) for r in extras()["dev"]}
    tox = (ROOT / "tox.ini").read_text()
    for name in ("ruff", "mypy", "django-stubs"):
        found = re.findall(rf"(?<![\w-]){re.escape(name)}([=<>!~]=?\S+)", tox)
        assert found, name
        assert set(found) == {pins[name]}, name


def _imported_top_level(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_every_package_the_tests_import_is_declared():
    imported = set()
    for path in (ROOT / "tests").rglob("*.py"):
        imported |= _imported_top_level(path)
    third_party = sorted(imported - set(sys.stdlib_module_names) - LOCAL - {"__future__"})
    distributions = packages_distributions()
    declared = set(install_requires())
    for extra in ("test", "browser"):
        declared |= {canonicalize_name(r.name) for r in extras()[extra]}

    undeclared = [
        module for module in third_party
        # Not installed here (playwright without the extra): its own name.
        if not {canonicalize_name(d) for d in distributions.get(module, [module])} & declared
    ]
    assert undeclared == []
    assert {"pytest", "factory", "hypothesis", "requests", "playwright"} <= set(third_party)
