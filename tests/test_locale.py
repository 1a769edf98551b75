"""The shipped translations: each compiled ``.mo`` matches its ``.po``, and Django uses it.

A ``.po`` edited without running ``compilemessages`` would ship stale texts;
this catches it without needing GNU gettext on the machine.
"""

from __future__ import annotations

import ast
import gettext
import re
from pathlib import Path

import pytest
from django.utils import translation

LOCALE = Path(__file__).resolve().parent.parent / "django_stripe_express" / "locale"
# Compiled catalogs; an untranslated template catalog (``en``) has no ``.mo``.
CATALOGS = sorted(
    po for po in LOCALE.glob("*/LC_MESSAGES/django.po") if po.with_suffix(".mo").exists()
)


def singular_entries(po: Path) -> dict[str, str]:
    """``msgid -> msgstr`` of the translated, non-plural, non-fuzzy entries."""
    entries = {}
    for block in po.read_text().split("\n\n"):
        if "#, fuzzy" in block or "msgid_plural" in block:
            continue
        match = re.search(r'^msgid ((?:".*"\n)+)msgstr ((?:".*"\n?)+)', block + "\n", re.M)
        if not match:
            continue
        msgid, msgstr = (
            "".join(ast.literal_eval(s) for s in g.split("\n") if s) for g in match.groups()
        )
        if msgid and msgstr:
            entries[msgid] = msgstr
    return entries


def test_there_is_a_catalog() -> None:
    assert CATALOGS


@pytest.mark.parametrize("po", CATALOGS, ids=lambda p: p.parent.parent.name)
def test_mo_is_compiled_from_po(po: Path) -> None:
    entries = singular_entries(po)
    assert len(entries) > 50
    with po.with_suffix(".mo").open("rb") as f:
        compiled = gettext.GNUTranslations(f)
    stale = {msgid for msgid, msgstr in entries.items() if compiled.gettext(msgid) != msgstr}
    assert stale == set(), "run: cd django_stripe_express && django-admin compilemessages"


def test_django_renders_the_button_in_french(rf, django_user_model) -> None:
    from django.template import Context, Template

    request = rf.get("/")
    request.user = django_user_model(username="nobody")  # unsaved: no account, no query
    request.user.pk = 10**9
    with translation.override("fr"):
        html = Template("{% load stripe_express %}{% stripe_express_button %}").render(
            Context({"request": request})
        )
    assert "Se connecter avec Stripe" in html
