"""The sdist and the wheel carry exactly what a platform needs, and nothing else.

Builds both from this tree with ``python -m build`` (into a temporary folder,
never ``dist/``) and compares the archives with the package on disk, so a new
template, locale file or module that would not ship, or a stray file that
would, fails here rather than in a user's project.
"""

from __future__ import annotations

import configparser
import shutil
import subprocess
import sys
import tarfile
import zipfile
from email.parser import Parser
from pathlib import Path, PurePosixPath

import pytest
from packaging.requirements import Requirement

import django_stripe_express

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "django_stripe_express"
VERSION = django_stripe_express.__version__

# Files the package folder may hold; anything else is a mistake to fix (either
# it ships by accident or it silently does not ship).
ALLOWED_IN_PACKAGE = (".py", ".html", ".txt", ".po", ".mo", ".css", ".js", ".svg", ".png")
DATA_SUFFIXES = {".html", ".txt", ".po", ".mo", ".css", ".js", ".svg", ".png"}
# What the sdist carries besides the package (see MANIFEST.in for why).
SDIST_TOP_LEVEL = {
    PACKAGE,
    f"{PACKAGE}.egg-info",
    "tests",
    "docs",
    "CHANGELOG.md",
    "LICENSE",
    "MANIFEST.in",
    "PKG-INFO",
    "README.md",
    "pyproject.toml",
    "setup.cfg",
    "tox.ini",
}
NEVER_SHIPPED = {"example_project", "scripts", ".ci", "benchmarks", "dist", "build", ".venv"}


def _package_files_on_disk() -> set[str]:
    """Every file under the package folder, as archive paths, caches left out."""
    files = set()
    for path in (ROOT / PACKAGE).rglob("*"):
        if path.is_dir() or "__pycache__" in path.parts or path.suffix == ".pyc":
            continue
        files.add(path.relative_to(ROOT).as_posix())
    return files


def _copy_tree(target: Path) -> Path:
    """This checkout without caches and virtualenvs, to build in isolation.

    Building in place would write ``*.egg-info`` into the tree, which parallel
    runs (tox) would race on.
    """

    def ignore(folder: str, names: list[str]) -> set[str]:
        skipped = {"__pycache__", "node_modules", "dist", "build", "artifacts"}
        return {
            n
            for n in names
            if n in skipped
            or n.endswith((".egg-info", ".pyc", ".sqlite3"))
            or (n.startswith(".") and n != ".ci" and Path(folder) == ROOT)
        }

    shutil.copytree(ROOT, target, ignore=ignore)
    return target


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("dist")
    source = _copy_tree(tmp_path_factory.mktemp("src") / "src")
    result = subprocess.run(
        [sys.executable, "-m", "build", "--outdir", str(out), str(source)],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    (wheel,) = out.glob("*.whl")
    (sdist,) = out.glob("*.tar.gz")
    return {"wheel": wheel, "sdist": sdist}


@pytest.fixture(scope="module")
def wheel_files(dist: dict[str, Path]) -> set[str]:
    with zipfile.ZipFile(dist["wheel"]) as archive:
        return {name for name in archive.namelist() if not name.endswith("/")}


@pytest.fixture(scope="module")
def sdist_files(dist: dict[str, Path]) -> set[str]:
    prefix = f"django_stripe_express-{VERSION}/"
    with tarfile.open(dist["sdist"]) as archive:
        names = [m.name for m in archive.getmembers() if m.isfile()]
    assert all(name.startswith(prefix) for name in names)
    return {name.removeprefix(prefix) for name in names}


def test_archives_are_named_after_the_version(dist: dict[str, Path]) -> None:
    assert dist["wheel"].name == f"django_stripe_express-{VERSION}-py3-none-any.whl"
    assert dist["sdist"].name == f"django_stripe_express-{VERSION}.tar.gz"


def test_package_folder_holds_only_shippable_files() -> None:
    stray = sorted(f for f in _package_files_on_disk() if not f.endswith(ALLOWED_IN_PACKAGE))
    stray = [f for f in stray if not f.endswith("/py.typed")]
    assert stray == []


def test_wheel_holds_the_package_and_nothing_else(wheel_files: set[str]) -> None:
    dist_info = f"django_stripe_express-{VERSION}.dist-info/"
    package_files = {f for f in wheel_files if not f.startswith(dist_info)}
    assert package_files == _package_files_on_disk()
    top_level = {PurePosixPath(f).parts[0] for f in wheel_files}
    assert top_level == {PACKAGE, dist_info.rstrip("/")}


def test_wheel_carries_templates_migrations_typing_and_data(wheel_files: set[str]) -> None:
    assert f"{PACKAGE}/py.typed" in wheel_files
    assert f"{PACKAGE}/migrations/0001_initial.py" in wheel_files
    assert f"{PACKAGE}/templatetags/stripe_express.py" in wheel_files
    templates = {f for f in wheel_files if f.startswith(f"{PACKAGE}/templates/")}
    assert any(f.startswith(f"{PACKAGE}/templates/django_stripe_express/") for f in templates)
    # Whatever data files exist on disk ship: templates, static, locale (.po and .mo).
    data_on_disk = {f for f in _package_files_on_disk() if PurePosixPath(f).suffix in DATA_SUFFIXES}
    assert data_on_disk <= wheel_files
    locale_on_disk = {f for f in data_on_disk if "/locale/" in f}
    assert {f for f in wheel_files if "/locale/" in f} == locale_on_disk


def test_sdist_carries_package_tests_and_docs_only(
    sdist_files: set[str], wheel_files: set[str]
) -> None:
    top_level = {PurePosixPath(f).parts[0] for f in sdist_files}
    assert top_level <= SDIST_TOP_LEVEL
    assert not top_level & NEVER_SHIPPED
    assert {"README.md", "LICENSE", "CHANGELOG.md", "tox.ini", "PKG-INFO"} <= sdist_files
    package_in_sdist = {f for f in sdist_files if f.startswith(f"{PACKAGE}/")}
    package_in_wheel = {f for f in wheel_files if f.startswith(f"{PACKAGE}/")}
    assert package_in_sdist == package_in_wheel
    assert "tests/settings.py" in sdist_files
    docs = {f"docs/{p.name}" for p in (ROOT / "docs").glob("*.md")}
    assert docs
    assert docs <= sdist_files


def test_metadata(dist: dict[str, Path]) -> None:
    with zipfile.ZipFile(dist["wheel"]) as archive:
        raw = archive.read(f"django_stripe_express-{VERSION}.dist-info/METADATA").decode()
        entry_points = archive.read(
            f"django_stripe_express-{VERSION}.dist-info/entry_points.txt"
        ).decode()
    meta = Parser().parsestr(raw)
    assert meta["Name"] == "django-stripe-express"
    assert meta["Version"] == VERSION
    assert meta["Requires-Python"] == ">=3.10"
    assert meta["Description-Content-Type"] == "text/markdown"
    requires = meta.get_all("Requires-Dist") or []
    (django,) = [Requirement(r) for r in requires if r.startswith("Django")]
    assert django.specifier.contains("4.2.30")
    assert not django.specifier.contains("6.2")  # the bound tests/test_dependencies.py proves
    assert any(r.replace(" ", "").startswith("stripe") for r in requires)
    # The long description is the README, so PyPI shows the same quickstart.
    readme = (ROOT / "README.md").read_text()
    assert str(meta.get_payload()).strip() == readme.strip()
    # Host projects' pytest runs get the fake_stripe fixture from this entry point.
    assert "django_stripe_express.testing.pytest_plugin" in entry_points


def test_version_lives_only_in_the_package() -> None:
    cfg = configparser.ConfigParser()
    cfg.read(ROOT / "setup.cfg")
    assert cfg["metadata"]["version"] == "attr: django_stripe_express.__version__"
    assert VERSION not in (ROOT / "pyproject.toml").read_text()
    assert "version" not in (ROOT / "pyproject.toml").read_text().split("[tool.")[0]
