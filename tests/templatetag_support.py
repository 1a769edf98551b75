"""Rendering the app's template tags in tests, and reading what a user sees."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from django.contrib.auth.models import AnonymousUser
from django.template import Context, Template
from django.test import RequestFactory


class _Page(HTMLParser):
    """Visible text, links and form buttons of a rendered fragment (no <style>)."""

    def __init__(self) -> None:
        super().__init__()
        self.text: list[str] = []
        self.links: list[tuple[str, str]] = []
        # (button text, form method, form action, form field names)
        self.buttons: list[tuple[str, str, str, list[str]]] = []
        self._href: str | None = None
        self._link_text: list[str] = []
        self._form: dict[str, str | None] | None = None
        self._fields: list[str] = []
        self._button_text: list[str] | None = None
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "style":
            self._in_style = True
        if tag == "a":
            self._href = dict(attrs).get("href") or ""
            self._link_text = []
        if tag == "form":
            self._form, self._fields = dict(attrs), []
        if tag == "input":
            self._fields.append(dict(attrs).get("name") or "")
        if tag == "button":
            self._button_text = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "style":
            self._in_style = False
        if tag == "a" and self._href is not None:
            self.links.append((" ".join("".join(self._link_text).split()), self._href))
            self._href = None
        if tag == "button" and self._button_text is not None and self._form is not None:
            text = " ".join("".join(self._button_text).split())
            method, action = self._form.get("method") or "", self._form.get("action") or ""
            self.buttons.append((text, method, action, list(self._fields)))
            self._button_text = None

    def handle_data(self, data: str) -> None:
        if self._in_style:
            return
        self.text.append(data)
        if self._href is not None:
            self._link_text.append(data)
        if self._button_text is not None:
            self._button_text.append(data)


class Rendered:
    def __init__(self, html: str) -> None:
        self.html = html
        parser = _Page()
        parser.feed(html)
        self.text = " ".join(" ".join(parser.text).split())
        self.links = parser.links
        self.buttons = parser.buttons

    def link(self, name: str) -> str:
        """The href of the one link whose accessible name is `name`."""
        hrefs = [href for text, href in self.links if text.rstrip(" →") == name]
        assert len(hrefs) == 1, f"{name!r} in {self.links}"
        return hrefs[0]

    def form(self, name: str) -> str:
        """The action of the one button whose name is `name`: a POST form with
        the CSRF token (starting onboarding is never a link)."""
        found = [b for b in self.buttons if b[0].rstrip(" →") == name]
        assert len(found) == 1, f"{name!r} in {self.buttons}"
        _text, method, action, fields = found[0]
        assert method == "post"
        assert "csrfmiddlewaretoken" in fields
        assert not [text for text, _href in self.links if text.rstrip(" →") == name]
        return action

    @property
    def status(self) -> str:
        found = re.findall(r'data-stripe-express-status="([a-z_]+)"', self.html)
        assert len(found) == 1, found
        return found[0]


def render(source: str, user=None, path: str = "/dashboard/", **context) -> Rendered:
    request = RequestFactory().get(path)
    request.user = user or AnonymousUser()
    template = Template("{% load stripe_express %}" + source)
    return Rendered(template.render(Context({"request": request, **context})))


def button(user=None, **context) -> Rendered:
    return render("{% stripe_express_button %}", user, **context)
