"""From wheel to working "Connect with Stripe", following only README.md.

1. Build the sdist and the wheel from this tree (the wheel from the sdist, as
   a user's pip would get it) into a temporary folder.
2. Make a fresh virtual environment there and run the README's install command
   with the wheel in place of the name on PyPI.
3. ``django-admin startproject``, then paste the README's snippets, found by
   their ``<!-- fresh-install:NAME -->`` markers, into the new project:
   INSTALLED_APPS and URLs first, and ``manage.py check`` must report the
   missing configuration with the app's ids; then the settings, after which
   ``check`` must report nothing; then ``migrate``.
4. ``collectstatic`` (STATIC_ROOT and a static-serving URL stand in for the
   deployment's web server), then run ``fresh_install_driver.py`` in the
   project: the Account Links flow creating a v2 account, a signed thin event,
   OAuth, and embedded onboarding with the fake's Connect.js stand-in, its
   static files fetched with DEBUG off; and the README's template snippet.
5. Install the README's test tools and run its host-project test and the
   first example of docs/testing.md with pytest (the ``fake_stripe`` fixture).
6. Task mode as docs/webhooks.md sets it up (django-tasks-db): a real
   ``db_worker`` process applies the thin event the webhook only queued.
7. The newcomer's case: an existing project with a custom user model,
   migrated before the app is added; the README's snippets pasted with no
   environment variable set, so ``check`` must name the missing keys by id
   (not crash on a ``KeyError``); migrate once they are set, drive both flows
   again, and run the host tests, docs/testing.md's receiver test among
   them, with no variable set (the fixture's keys take over).

Any disagreement between those docs and the package fails the check. Standard
library only; run it with any Python 3.10+ (``--python`` picks the one for the
new project, e.g. ``python3.13``). Nothing is left behind unless ``--keep``.
"""

from __future__ import annotations

import argparse
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
TESTING_DOC = ROOT / "docs" / "testing.md"  # its first example runs too
WEBHOOKS_DOC = ROOT / "docs" / "webhooks.md"  # its task-mode settings run too
DIST_NAME = "django-stripe-express"
PROJECT = "marketplace"  # `platform` would shadow the standard library module
# The values the README's settings read from the environment; the driver starts
# the fake Stripe with the same ones. Two webhook secrets: a rotation in progress.
STRIPE_ENV = {
    "STRIPE_SECRET_KEY": "sk_test_fresh_install",
    "STRIPE_CLIENT_ID": "ca_fresh_install",
    # Shaped like Stripe's (W021 flags a short or edited one).
    "STRIPE_WEBHOOK_SECRETS": "whsec_oldFreshInstall0123456789abcdefABCDEF,"
    "whsec_newFreshInstall0123456789abcdefABCDEF",
}
# Deployment as Django's docs describe it: `collectstatic` into STATIC_ROOT, and
# something serving that folder with DEBUG off. whitenoise is no dependency of
# the app, so a plain `django.views.static.serve` URL stands in for the web
# server (nginx, a CDN): the driver checks the pages' static URLs answer with
# the collected files.
STATIC_SETTINGS = 'STATIC_ROOT = BASE_DIR / "collected_static"'
STATIC_URLS = """from django.conf import settings
from django.urls import re_path
from django.views.static import serve

urlpatterns += [
    re_path(r"^static/(?P<path>.*)$", serve, {"document_root": settings.STATIC_ROOT}),
]"""
# What `manage.py check` must say before the README's STRIPE_EXPRESS settings.
EXPECTED_BEFORE = (
    "django_stripe_express.E001",
    "django_stripe_express.W001",
)
# ... and with them, while the variables they read are not set yet.
EXPECTED_WITHOUT_VARIABLES = {"django_stripe_express.E001", "django_stripe_express.W001"}
NEWCOMER = "shop"  # the newcomer's existing project
CUSTOM_USER = """from django.contrib.auth.models import AbstractUser
from django.db import models


class User(AbstractUser):
    shop_name = models.CharField(max_length=100, blank=True)
"""
# A block may be indented (in a list item): its text is dedented.
MARKER = re.compile(r"<!--\s*fresh-install:([\w-]+)\s*-->\s*\n[ ]*```[\w-]*\n(.*?)\n[ ]*```", re.S)


def say(text: str) -> None:
    print(f"\n=== {text}", flush=True)


def run(
    cmd: list[str],
    *,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    expect: int | None = 0,
) -> subprocess.CompletedProcess[str]:
    print("$", shlex.join(str(c) for c in cmd), flush=True)
    result = subprocess.run(  # noqa: S603 (our own commands, no shell)
        cmd, cwd=cwd, env=env, text=True, capture_output=True, check=False
    )
    output = (result.stdout + result.stderr).strip()
    if output:
        print(output, flush=True)
    if expect is not None and result.returncode != expect:
        sys.exit(f"FAILED: exit code {result.returncode}, expected {expect}")
    return result


def readme_snippets() -> dict[str, str]:
    snippets = {}
    for doc in (README, TESTING_DOC, WEBHOOKS_DOC):
        snippets.update((name, textwrap.dedent(text)) for name, text in MARKER.findall(
            doc.read_text()))
    needed = {
        "install",
        "installed-apps",
        "urls",
        "settings",
        "settings-oauth",
        "settings-fake",
        "template",
        "test-install",
        "host-test",
        "docs-test",
        "signal-test",
        "money-test",
        "settings-tasks",
    }
    missing = needed - set(snippets)
    if missing:
        sys.exit(f"FAILED: README.md or docs/testing.md lacks the snippets {sorted(missing)}")
    return snippets


def build(tmp: Path) -> Path:
    say("build the sdist and the wheel")
    python = sys.executable
    has_build = subprocess.run([python, "-c", "import build"], capture_output=True)  # noqa: S603
    if has_build.returncode:
        run([sys.executable, "-m", "venv", str(tmp / "tools")])
        python = str(tmp / "tools" / "bin" / "python")
        run([python, "-m", "pip", "install", "-q", "build"])
    run([python, "-m", "build", "--outdir", str(tmp / "dist"), str(ROOT)])
    (wheel,) = (tmp / "dist").glob("*.whl")
    return wheel


def pip_args(command: str, first_package: str) -> list[str]:
    """``["pip", "install", ...]`` from the README's one-line pip command."""
    args = shlex.split(command.strip())
    if args[:3] == ["python", "-m", "pip"]:
        args = args[2:]
    if args[:2] != ["pip", "install"] or not args[2:] or not args[2].startswith(first_package):
        sys.exit(f"FAILED: expected `pip install {first_package} ...` in README.md: {command}")
    return args


def install(tmp: Path, python: str, wheel: Path, command: str) -> Path:
    say("fresh virtual environment, README's install command")
    venv = tmp / "venv"
    run([python, "-m", "venv", str(venv)])
    args = pip_args(command, DIST_NAME)
    if len(args) != 3:
        sys.exit(f"FAILED: README's install command is not `pip install {DIST_NAME}`: {command}")
    extras = args[2][len(DIST_NAME) :]  # e.g. "[something]"
    run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q", f"{wheel}{extras}"])
    run([str(venv / "bin" / "python"), "-m", "pip", "list"])
    return venv


def append(path: Path, snippet: str, source: str) -> None:
    with path.open("a") as f:
        f.write(f"\n\n# --- from README.md ({source})\n{snippet}\n")


def check_ids(output: str) -> set[str]:
    return set(re.findall(r"django_stripe_express\.[EW]\d{3}", output))


def drive(site: Path, bin_: Path, env: dict[str, str], snippets: dict[str, str]) -> None:
    """Run fresh_install_driver.py in ``site``: both flows and a webhook, as a user would."""
    (site / "readme_template.html").write_text(snippets["template"])
    (site / "readme_settings_oauth.py").write_text(snippets["settings-oauth"])
    shutil.copy(ROOT / "scripts" / "fresh_install_driver.py", site / "driver.py")
    run(
        [str(bin_ / "python"), "driver.py", "readme_template.html", "readme_settings_oauth.py"],
        cwd=site,
        env=env,
    )


def host_tests(
    site: Path, bin_: Path, env: dict[str, str], files: dict[str, str], *, passed: int
) -> None:
    """Write the docs' tests into ``site`` and run them with pytest: all must pass."""
    for name, text in files.items():
        (site / name).write_text(text)
    pytest = [str(bin_ / "python"), "-m", "pytest", "-p", "no:cacheprovider", "-W", "error"]
    result = run([*pytest, *files], cwd=site, env=env)
    if f" {passed} passed" not in result.stdout:
        sys.exit(f"FAILED: expected the {passed} tests of {', '.join(files)} to pass")


def task_mode(site: Path, bin_: Path, wheel: Path, env: dict[str, str],
              snippets: dict[str, str]) -> None:
    """docs/webhooks.md's task mode with django-tasks-db: a real ``db_worker``
    applies the thin event the webhook only queued."""
    say("task mode: docs/webhooks.md's settings, django-tasks-db and its db_worker")
    python = str(bin_ / "python")
    major = int(run([python, "-c", "import django; print(django.VERSION[0])"],
                    env=env).stdout.strip())
    # As the docs say: Django 6.0+ has django.tasks; below, the backport (the
    # app's `tasks` extra) and django-tasks-db's `compat` extra.
    packages = ["django-tasks-db"] if major >= 6 else [f"{wheel}[tasks]", "django-tasks-db[compat]"]
    run([python, "-m", "pip", "install", "-q", *packages], env=env)
    backport = "" if major >= 6 else 'INSTALLED_APPS += ["django_tasks"]\n'
    (site / PROJECT / "settings_tasks.py").write_text(
        "from .settings import *  # noqa: F403\n\n"
        f"# --- from docs/webhooks.md (settings-tasks)\n{backport}{snippets['settings-tasks']}\n"
    )
    tasks_env = {**env, "DJANGO_SETTINGS_MODULE": f"{PROJECT}.settings_tasks"}
    manage = [python, "manage.py"]
    result = run([*manage, "check"], cwd=site, env=tasks_env)
    if check_ids(result.stdout + result.stderr):
        sys.exit("FAILED: check reports the app's ids with docs/webhooks.md's task settings")
    run([*manage, "migrate", "--noinput"], cwd=site, env=tasks_env)
    shutil.copy(ROOT / "scripts" / "fresh_install_driver.py", site / "driver.py")
    run([python, "driver.py", "--tasks"], cwd=site, env=tasks_env)


def newcomer(tmp: Path, bin_: Path, env: dict[str, str], snippets: dict[str, str]) -> None:
    """An existing project (custom user model, already migrated) adds the app."""
    say(f"newcomer: django-admin startproject {NEWCOMER}, a custom user model, migrate")
    site = tmp / "newcomer"
    site.mkdir()
    env = {k: v for k, v in env.items() if k not in STRIPE_ENV and k != "FAKE_STRIPE_URL"}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    run([str(bin_ / "django-admin"), "startproject", NEWCOMER, str(site)], env=env)
    manage = [str(bin_ / "python"), "manage.py"]
    run([*manage, "startapp", "accounts"], cwd=site, env=env)
    (site / "accounts" / "models.py").write_text(CUSTOM_USER)
    settings_py, urls_py = site / NEWCOMER / "settings.py", site / NEWCOMER / "urls.py"
    append(settings_py, 'INSTALLED_APPS += ["accounts"]\nAUTH_USER_MODEL = "accounts.User"',
           "the project's own custom user model")
    run([*manage, "makemigrations", "accounts"], cwd=site, env=env)
    run([*manage, "migrate", "--noinput"], cwd=site, env=env)

    say("newcomer: the README's snippets, no environment variable set; check names them")
    append(settings_py, snippets["installed-apps"], "installed-apps")
    append(urls_py, snippets["urls"], "urls")
    append(settings_py, snippets["settings"], "settings")
    append(settings_py, snippets["settings-fake"], "settings-fake")
    append(settings_py, STATIC_SETTINGS, "a deployment's STATIC_ROOT, not the README")
    append(urls_py, STATIC_URLS, "the web server's part, not the README")
    result = run([*manage, "check"], cwd=site, env=env, expect=1)
    output = result.stdout + result.stderr
    if "Traceback" in output or check_ids(output) != EXPECTED_WITHOUT_VARIABLES:
        sys.exit(
            f"FAILED: expected check to report {sorted(EXPECTED_WITHOUT_VARIABLES)} "
            f"without the variables, got {sorted(check_ids(output))}"
        )

    say("newcomer: variables set; migrate the app onto the existing tables, drive the flows")
    configured = {**env, **STRIPE_ENV}
    run([*manage, "check"], cwd=site, env=configured)
    run([*manage, "migrate", "--noinput"], cwd=site, env=configured)
    run([*manage, "makemigrations", "--check", "--dry-run"], cwd=site, env=configured)
    run([*manage, "collectstatic", "--noinput", "-v", "0"], cwd=site, env=configured)
    configured["DJANGO_SETTINGS_MODULE"] = f"{NEWCOMER}.settings"
    drive(site, bin_, configured, snippets)

    say("newcomer: the host tests, a signal receiver's among them, no variable set")
    env["DJANGO_SETTINGS_MODULE"] = f"{NEWCOMER}.settings"
    host_tests(site, bin_, env, {"test_readme.py": snippets["host-test"],
                                 "test_receiver.py": snippets["signal-test"]}, passed=2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--python", default="python3", help="Python for the new project")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    options = parser.parse_args()
    started = time.monotonic()
    snippets = readme_snippets()
    tmp = Path(tempfile.mkdtemp(prefix="dse-fresh-install-"))
    try:
        wheel = build(tmp)
        venv = install(tmp, options.python, wheel, snippets["install"])
        bin_ = venv / "bin"
        # Nothing from this checkout may leak in: no PYTHONPATH, run from the new project.
        env = {
            k: v
            for k, v in os.environ.items()
            if k not in ("PYTHONPATH", "DJANGO_SETTINGS_MODULE", "DATABASE_URL", "VIRTUAL_ENV")
        }
        env["PATH"] = f"{bin_}{os.pathsep}{env.get('PATH', '')}"

        say(f"django-admin startproject {PROJECT}")
        site = tmp / "site"
        site.mkdir()
        run([str(bin_ / "django-admin"), "startproject", PROJECT, str(site)], env=env)
        settings_py = site / PROJECT / "settings.py"
        urls_py = site / PROJECT / "urls.py"
        manage = [str(bin_ / "python"), "manage.py"]

        say("INSTALLED_APPS and URLs from the README; check must flag the missing settings")
        append(settings_py, snippets["installed-apps"], "installed-apps")
        append(urls_py, snippets["urls"], "urls")
        append(settings_py, STATIC_SETTINGS, "a deployment's STATIC_ROOT, not the README")
        append(urls_py, STATIC_URLS, "the web server's part, not the README")
        result = run([*manage, "check"], cwd=site, env=env, expect=None)
        found = check_ids(result.stdout + result.stderr)
        if result.returncode == 0 or not set(EXPECTED_BEFORE) <= found:
            sys.exit(f"FAILED: expected {EXPECTED_BEFORE} and a failing check, got {found}")
        if (result.stdout + result.stderr).count("HINT:") < len(EXPECTED_BEFORE):
            sys.exit("FAILED: every check message should carry a hint")

        say("STRIPE_EXPRESS settings from the README; check must be clean")
        append(settings_py, snippets["settings"], "settings")
        append(settings_py, snippets["settings-fake"], "settings-fake")
        env.update(STRIPE_ENV)
        result = run([*manage, "check"], cwd=site, env=env)
        if check_ids(result.stdout + result.stderr):
            sys.exit("FAILED: check still reports the app's ids after the README's settings")

        say("migrate")
        run([*manage, "migrate", "--noinput"], cwd=site, env=env)
        run(
            [*manage, "makemigrations", "--check", "--dry-run", "django_stripe_express"],
            cwd=site,
            env=env,
        )

        say("collectstatic (served with DEBUG off by the stand-in URL)")
        run([*manage, "collectstatic", "--noinput", "-v", "0"], cwd=site, env=env)

        say("connect flows (Account Links, OAuth, embedded) and a webhook against the fake")
        env["DJANGO_SETTINGS_MODULE"] = f"{PROJECT}.settings"
        drive(site, bin_, env, snippets)

        say("the README's host-project test, with the fake_stripe pytest fixture")
        pip, verb, *packages = pip_args(snippets["test-install"], "pytest")
        run([str(bin_ / "python"), "-m", pip, verb, "-q", *packages], env=env)
        host_tests(site, bin_, env, {"test_readme.py": snippets["host-test"],
                                     "test_docs_testing.py": snippets["docs-test"],
                                     "test_docs_money.py": snippets["money-test"]}, passed=5)

        task_mode(site, bin_, wheel, env, snippets)
        newcomer(tmp, bin_, env, snippets)
    finally:
        if options.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    print(f"\nfresh-install check passed in {time.monotonic() - started:.0f}s", flush=True)


if __name__ == "__main__":
    main()
