"""The README's quickstart settings survive a missing variable, so the checks can speak.

The settings snippet used ``os.environ["STRIPE_SECRET_KEY"]``: a ``KeyError``
in ``settings.py`` before the promised ``manage.py check`` could report
anything, and before a host project's pytest could start (the ``fake_stripe``
fixture replaces the keys, but only once settings import). These tests run
the README's snippets, as written, with and without the variables.
"""

from __future__ import annotations

import importlib.util
import os
import re
from io import StringIO
from pathlib import Path
from typing import Any

from django.core.management import call_command
from django.core.management.base import SystemCheckError

ROOT = Path(__file__).resolve().parent.parent
VARIABLES = ("STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRETS", "STRIPE_CLIENT_ID", "FAKE_STRIPE_URL")


def readme_snippets() -> dict[str, str]:
    """The snippets exactly as scripts/fresh_install_check.py pastes them."""
    spec = importlib.util.spec_from_file_location(
        "fresh_install_check", ROOT / "scripts" / "fresh_install_check.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return dict(module.readme_snippets())


def run_settings(*names: str, environ: dict[str, str]) -> dict[str, Any]:
    """``exec`` the named snippets as settings.py would, in ``environ``; its STRIPE_EXPRESS."""
    snippets = readme_snippets()
    namespace: dict[str, Any] = {}
    saved = {name: os.environ.pop(name) for name in VARIABLES if name in os.environ}
    os.environ.update(environ)
    try:
        for name in names:
            exec(snippets[name], namespace)  # the README's own text
    finally:
        for name in VARIABLES:
            os.environ.pop(name, None)
        os.environ.update(saved)
    return dict(namespace["STRIPE_EXPRESS"])


def app_check_ids() -> set[str]:
    out, err = StringIO(), StringIO()
    try:
        call_command("check", stdout=out, stderr=err)
        text = out.getvalue() + err.getvalue()
    except SystemCheckError as exc:
        text = str(exc)
    return set(re.findall(r"django_stripe_express\.[EW]\d{3}", text))


def test_without_any_variable_settings_load_and_check_names_what_is_missing(settings):
    settings.STRIPE_EXPRESS = run_settings("settings", "settings-fake", environ={})
    assert app_check_ids() == {"django_stripe_express.E001", "django_stripe_express.W001"}


def test_the_oauth_snippet_without_its_variable_is_reported_too(settings):
    settings.STRIPE_EXPRESS = run_settings("settings", "settings-oauth", environ={})
    assert "django_stripe_express.E004" in app_check_ids()


#: Signing secrets shaped like Stripe's (check W021 warns about others).
ONE, TWO = "whsec_" + "0neS" * 8, "whsec_" + "tw0S" * 8


def test_with_the_variables_set_check_reports_nothing(settings):
    settings.STRIPE_EXPRESS = run_settings(
        "settings", "settings-oauth", "settings-fake",
        environ={
            "STRIPE_SECRET_KEY": "sk_test_quickstart",
            "STRIPE_WEBHOOK_SECRETS": f"{ONE},{TWO}",
            "STRIPE_CLIENT_ID": "ca_quickstart",
        },
    )
    assert settings.STRIPE_EXPRESS["WEBHOOK_SECRETS"] == [ONE, TWO]
    assert app_check_ids() == set()

