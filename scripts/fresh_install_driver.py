"""Drive a brand-new project, configured only from README.md, against the fake Stripe.

Run by ``scripts/fresh_install_check.py`` inside the new project's folder, with
the new virtual environment's Python and ``DJANGO_SETTINGS_MODULE`` set. It uses
only what the installed wheel provides: the app's URLs, its template tag and
``django_stripe_express.testing.FakeStripe``. Django's test client plays the
browser for the platform's pages; plain HTTP plays it for the fake's pages.

Arguments: the README's template snippet and its OAuth settings snippet (files).
"""

from __future__ import annotations

import http.client
import os
import sys
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urljoin, urlsplit

from django_stripe_express.testing import FakeStripe


def step(text: str) -> None:
    print(f"--- {text}", flush=True)


def check(condition: bool, message: str) -> None:
    if not condition:
        raise SystemExit(f"FAILED: {message}")


class FormParser(HTMLParser):
    """The first form of a page: its action and its input fields."""

    def __init__(self) -> None:
        super().__init__()
        self.action: str | None = None
        self.fields: dict[str, str] = {}
        self._in_form = False
        self._done = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form" and not self._done:
            self.action, self._in_form = a.get("action", ""), True
        elif tag == "input" and self._in_form and a.get("name"):
            if a.get("type") == "checkbox" and "checked" not in a:
                return
            self.fields[a["name"]] = a.get("value", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "form" and self._in_form:
            self._in_form, self._done = False, True


def http_request(url: str, method: str = "GET", form: dict[str, str] | None = None) -> Any:
    """One request to the fake, redirects not followed (their target is the platform)."""
    parts = urlsplit(url)
    check(parts.hostname == "127.0.0.1", f"only the local fake may be contacted, not {url}")
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    body = urlencode(form).encode() if form is not None else None
    headers = {"Content-Type": "application/x-www-form-urlencoded"} if body else {}
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    conn.request(method, path, body=body, headers=headers)
    response = conn.getresponse()
    text = response.read().decode()
    conn.close()
    return response.status, response.getheader("Location"), text


def agree_on_fake_page(url: str) -> str:
    """Open one of the fake's hosted pages, press "Agree and submit"; return where it sends us."""
    status, _, page = http_request(url)
    check(status == 200, f"fake page {url} answered {status}")
    check("Agree and submit" in page, "the fake's page has no 'Agree and submit' button")
    form = FormParser()
    form.feed(page)
    check(form.action is not None, "no form on the fake's page")
    status, location, _ = http_request(
        urljoin(url, form.action or ""), "POST", {**form.fields, "action": "agree"}
    )
    check(status in (302, 303) and bool(location), f"submitting the fake's page gave {status}")
    return str(location)


def platform_path(url: str) -> str:
    """The path + query of a URL on the platform (the test client's 'testserver')."""
    parts = urlsplit(url)
    check(parts.hostname in (None, "", "testserver"), f"expected a platform URL, got {url}")
    return parts.path + (f"?{parts.query}" if parts.query else "")


def main(template_file: str, oauth_settings_file: str) -> None:
    fake = FakeStripe(
        secret_key=os.environ["STRIPE_SECRET_KEY"],
        client_id=os.environ["STRIPE_CLIENT_ID"],
        # The fake signs with the *last* secret listed: the new one during a rotation.
        webhook_secret=os.environ["STRIPE_WEBHOOK_SECRETS"].split(",")[-1],
    ).start()
    # Read by the README's development snippet, when settings are first imported.
    os.environ["FAKE_STRIPE_URL"] = fake.url

    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.template import RequestContext, Template
    from django.test import Client, RequestFactory, override_settings
    from django.test.utils import setup_test_environment
    from django.urls import reverse

    from django_stripe_express.models import ExpressAccount

    setup_test_environment()  # allows the 'testserver' host
    check(settings.STRIPE_EXPRESS["API_BASE"] == fake.url, "README's FAKE_STRIPE_URL snippet")
    # The README tells users to give Stripe this exact URL for the webhook endpoint.
    check(reverse("stripe_express:webhook") == "/stripe/webhook/", "webhook URL in README")
    template = Template(Path(template_file).read_text())
    User = get_user_model()

    def render_tag(user: Any) -> str:
        request = RequestFactory().get("/")
        request.user = user
        return template.render(RequestContext(request, {}))

    def connect(user: Any, password: str) -> ExpressAccount:
        client = Client()
        check(client.login(username=user.get_username(), password=password), "log in")
        # A GET only shows the button; its form POSTs (the test client skips CSRF).
        page = client.get(reverse("stripe_express:connect"))
        check(page.status_code == 200, f"connect's page answered {page.status_code}")
        check(not ExpressAccount.objects.filter(user=user).exists(), "a GET started onboarding")
        response = client.post(reverse("stripe_express:connect"))
        check(response.status_code == 302, f"connect answered {response.status_code}")
        check(response["Location"].startswith(fake.url), f"connect went to {response['Location']}")
        back = agree_on_fake_page(response["Location"])
        response = client.get(platform_path(back))
        check(response.status_code == 302, f"back on the platform: {response.status_code}")
        account = ExpressAccount.objects.filter(user=user).first()
        check(account is not None, "no ExpressAccount after the flow")
        assert account is not None
        check(account.stripe_id in fake.accounts, "the account is not the fake's")
        print(f"    {user.get_username()}: {account.stripe_id} status={account.status}")
        return account

    # -- Account Links (the README's default configuration) ----------------------
    step(f"Account Links flow (ONBOARDING={settings.STRIPE_EXPRESS.get('ONBOARDING')!r})")
    alice = User.objects.create_user("alice", "alice@example.com", "alice-pass")
    before = render_tag(alice)
    check("Connect with Stripe" in before, "the template tag shows no 'Connect with Stripe'")
    account = connect(alice, "alice-pass")
    check(account.status == "enabled", f"expected an enabled account, got {account.status}")
    after = render_tag(alice)
    check("Connect with Stripe" not in after, "the tag still offers to connect")
    check('data-stripe-express-status="enabled"' in after, "the tag does not show the status")

    # -- one signed webhook, of the account's kind -------------------------------
    # Accounts v2 (the README's default) announce changes with thin events to
    # the event destination's URL; v1 accounts with snapshot events.
    v2 = account.accounts_api == "v2"
    kind = "thin v2.core.account[requirements].updated" if v2 else "account.updated"
    step(f"webhook: signed {kind} (signed with the second of two secrets)")
    fake.require_verification(account.stripe_id)
    if v2:
        event = fake.build_thin_event("v2.core.account[requirements].updated",
                                      account=account.stripe_id)
        path = reverse("stripe_express:thin_webhook")
    else:
        event = fake.build_event("account.updated", account=account.stripe_id)
        path = reverse("stripe_express:webhook")
    client = Client()
    payload, header = fake.signed(event, secret="whsec_not_configured")
    response = client.post(
        path,
        data=payload,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=header,
    )
    check(response.status_code == 400, f"a wrongly signed event got {response.status_code}")
    account.refresh_from_db()
    check(account.status == "enabled", "a wrongly signed event changed the account")
    response = fake.post_event(client, event, path=path)
    check(response.status_code == 200, f"the signed event got {response.status_code}")
    account.refresh_from_db()
    check(account.status == "restricted", f"expected restricted after the event: {account.status}")
    print(f"    {account.stripe_id} status={account.status}")

    # -- OAuth (the README's snippet for platforms that have Express OAuth) -----
    oauth_settings: dict[str, Any] = {"STRIPE_EXPRESS": dict(settings.STRIPE_EXPRESS), "os": os}
    exec(Path(oauth_settings_file).read_text(), oauth_settings)  # noqa: S102 (README text)
    with override_settings(STRIPE_EXPRESS=oauth_settings["STRIPE_EXPRESS"]):
        step(f"OAuth flow (ONBOARDING={settings.STRIPE_EXPRESS['ONBOARDING']!r})")
        bob = User.objects.create_user("bob", "bob@example.com", "bob-pass")
        account = connect(bob, "bob-pass")
        check(account.status == "enabled", f"expected an enabled account, got {account.status}")
        check(fake.requests_to("/oauth/token", "POST") != [], "no code exchange happened")

    # -- embedded onboarding, static files collected and served with DEBUG off ---
    embedded(fake, connect_js_expected=settings.STRIPE_EXPRESS["CONNECT_JS_URL"])

    fake.stop()
    step("all good")


class ConfigParser(HTMLParser):
    """The embedded page's JSON settings block and its static URLs (script, stylesheet)."""

    def __init__(self) -> None:
        super().__init__()
        self.config_text = ""
        self.static: list[str] = []
        self._in_config = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        self._in_config = tag == "script" and a.get("id") == "stripe-express-embedded-config"
        url = a.get("src") if tag == "script" else a.get("href") if tag == "link" else None
        if url and "django_stripe_express/" in url:
            self.static.append(url)

    def handle_data(self, data: str) -> None:
        if self._in_config:
            self.config_text += data

    def handle_endtag(self, tag: str) -> None:
        self._in_config = False


def embedded(fake: FakeStripe, connect_js_expected: str) -> None:
    """ONBOARDING = "embedded" with the fake's Connect.js stand-in, DEBUG off: the
    page's static files come from STATIC_ROOT (collectstatic), the session from
    the app, the onboarding form from the stand-in; the account ends enabled."""
    import json

    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.test import Client, override_settings
    from django.urls import reverse

    from django_stripe_express.models import ExpressAccount

    step("embedded onboarding with the local Connect.js stand-in; static files, DEBUG off")
    check(connect_js_expected.startswith(fake.url), "README's CONNECT_JS_URL is not the fake's")
    stripe_express = {**settings.STRIPE_EXPRESS, "ONBOARDING": "embedded",
                      "PUBLISHABLE_KEY": fake.publishable_key}
    with override_settings(STRIPE_EXPRESS=stripe_express, DEBUG=False):
        carol = get_user_model().objects.create_user("carol", "carol@example.com", "carol-pass")
        client = Client()
        check(client.login(username="carol", password="carol-pass"), "log in")
        response = client.post(reverse("stripe_express:connect"))
        check(response.status_code == 302, f"connect answered {response.status_code}")
        page_url = platform_path(response["Location"])
        check(page_url.startswith(reverse("stripe_express:onboarding")),
              f"connect went to {page_url}, not the onboarding page")
        page = client.get(page_url)
        check(page.status_code == 200, f"the onboarding page answered {page.status_code}")
        parsed = ConfigParser()
        parsed.feed(page.content.decode())
        config = json.loads(parsed.config_text or "{}")
        check(config.get("connectJsUrl") == connect_js_expected,
              f"the page loads Connect.js from {config.get('connectJsUrl')!r}")
        check(len(parsed.static) >= 2, f"the page's static files: {parsed.static}")
        for url in parsed.static:
            served = client.get(url)
            check(served.status_code == 200, f"{url} answered {served.status_code} with DEBUG off")
            name = url.split(settings.STATIC_URL.strip("/") + "/", 1)[-1]
            collected = Path(settings.STATIC_ROOT) / name
            check(collected.is_file(), f"{name} was not collected into STATIC_ROOT")
            body = b"".join(served.streaming_content)  # type: ignore[attr-defined]
            check(body == collected.read_bytes(), f"{url} is not the collected file")
            print(f"    {url}: {len(body)} bytes from STATIC_ROOT")
        status, _, script = http_request(connect_js_expected)
        check(status == 200 and "function" in script, f"the stand-in Connect.js: {status}")
        session = client.post(reverse("stripe_express:account_session"),
                              {"components": "account_onboarding"})
        check(session.status_code == 200, f"account_session answered {session.status_code}")
        secret = session.json()["client_secret"]
        # What the stand-in's onboarding component posts when the user agrees.
        status, _, _ = http_request(
            f"{fake.url}/connect-js/v1.0/frame/account_onboarding/submit", "POST",
            {"client_secret": secret, "publishable_key": fake.publishable_key,
             "instance": "fresh-install", "action": "agree", "finish": "on"},
        )
        check(status == 200, f"the stand-in's onboarding form answered {status}")
        # The component exited: the page posts back, and the app re-reads the account.
        back = client.post(page_url)
        check(back.status_code == 302, f"the page's exit answered {back.status_code}")
        account = ExpressAccount.objects.get(user=carol)
        check(account.status == "enabled", f"expected enabled after embedded: {account.status}")
        print(f"    carol: {account.stripe_id} ({account.accounts_api}) status={account.status}")


def tasks() -> None:
    """``WEBHOOK_PROCESSING = "task"`` with django-tasks-db: the webhook only queues
    the thin event; a real ``db_worker`` process fetches and applies it."""
    import subprocess
    import time

    fake = FakeStripe(
        secret_key=os.environ["STRIPE_SECRET_KEY"],
        client_id=os.environ["STRIPE_CLIENT_ID"],
        webhook_secret=os.environ["STRIPE_WEBHOOK_SECRETS"].split(",")[-1],
    ).start()
    os.environ["FAKE_STRIPE_URL"] = fake.url  # the worker reads it too

    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.test import Client
    from django.test.utils import setup_test_environment
    from django.urls import reverse

    from django_stripe_express.models import ExpressAccount, WebhookEvent

    setup_test_environment()
    check(settings.STRIPE_EXPRESS.get("WEBHOOK_PROCESSING") == "task", "task mode is not on")
    step("task mode: the webhook queues a thin event, a db_worker applies it")
    data = fake.create_v2_account(contact_email="dave@example.com")
    dave = get_user_model().objects.create_user("dave", "dave@example.com", "dave-pass")
    account = ExpressAccount.objects.create(user=dave, stripe_id=data["id"], accounts_api="v2")
    check(account.status == "onboarding", f"a new account is {account.status}")
    fake.complete_onboarding(account.stripe_id)
    event = fake.build_thin_event("v2.core.account.updated", account=account.stripe_id)
    response = fake.post_event(Client(), event, path=reverse("stripe_express:thin_webhook"))
    check(response.status_code == 200, f"the thin event got {response.status_code}")
    check(response.content == b"queued", f"the webhook answered {response.content!r}")
    account.refresh_from_db()
    check(account.status == "onboarding", "the request applied the event itself")

    worker = subprocess.Popen(
        [sys.executable, "manage.py", "db_worker", "--no-startup-delay", "--no-reload",
         "--interval", "0.1"],
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            account.refresh_from_db()
            if account.status == "enabled":
                break
            check(worker.poll() is None, f"db_worker exited with {worker.returncode}")
            time.sleep(0.2)
        check(account.status == "enabled", f"the worker did not apply the event: {account.status}")
        stored = WebhookEvent.objects.get(stripe_id=event["id"])
        print(f"    {account.stripe_id}: {stored.type} {stored.status}, account {account.status}")
    finally:
        worker.terminate()
        worker.wait(30)
    fake.stop()
    step("all good")


if __name__ == "__main__":
    if sys.argv[1:] == ["--tasks"]:
        tasks()
    else:
        main(*sys.argv[1:])
