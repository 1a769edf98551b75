"""Headless Chromium against the example project, served for real on 127.0.0.1.

Needs Debian's `chromium` and the `playwright` package (never `playwright
install`: no browser downloads). Without them the tests skip, except under
`CI=true`, where a missing browser must fail the run instead of hiding it.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from django_stripe_express.testing import FakeStripe

from .server import EXAMPLE, REPO, ExampleServer

SCREENSHOTS = REPO / "artifacts" / "screenshots"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def _missing() -> str | None:
    if not EXAMPLE.is_dir():
        return "example_project/ is not here (an sdist ships without it)"
    if shutil.which("chromium") is None:
        return "chromium is not installed (apt-get install -y chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed (pip install playwright; no `playwright install`)"
    return None


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One Chromium per module; the Playwright loop ends with the module, so the
    rest of the suite's database calls never run beside it."""
    missing = _missing()
    if missing:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true but {missing}", pytrace=False)
        pytest.skip(missing)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=shutil.which("chromium"), args=CHROMIUM_ARGS, headless=True
        )
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeStripe]:
    """A fake Stripe of these tests' own (not the suite's shared one)."""
    with FakeStripe() as running:
        yield running


@pytest.fixture(scope="module")
def example_server(
    browser: Any, fake: FakeStripe, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ExampleServer]:
    """The example project onboarding through Express OAuth."""
    with ExampleServer(
        tmp_path_factory.mktemp("example"), fake.url, STRIPE_ONBOARDING="oauth"
    ) as server:
        yield server


@pytest.fixture(scope="module")
def account_links_server(
    browser: Any, fake: FakeStripe, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ExampleServer]:
    """The example project as it starts: Account Links creating Accounts v2 accounts."""
    with ExampleServer(tmp_path_factory.mktemp("example"), fake.url) as server:
        yield server


@pytest.fixture(scope="module")
def embedded_server(
    browser: Any, fake: FakeStripe, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ExampleServer]:
    """The example project with embedded onboarding and components (the fake's
    stand-in Connect.js)."""
    with ExampleServer(
        tmp_path_factory.mktemp("example"), fake.url, STRIPE_ONBOARDING="embedded"
    ) as server:
        yield server


def _pages(browser: Any, server: ExampleServer) -> Iterator[Any]:
    contexts: list[Any] = []
    seen = len(server.errors())

    def make(**options: Any) -> Any:
        context = browser.new_context(
            base_url=server.url, viewport={"width": 1100, "height": 760}, **options
        )
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()
    errors = server.errors()[seen:]
    assert not errors, "\n".join(errors) + "\n" + server.log()[-4000:]


@pytest.fixture
def new_page(browser: Any, example_server: ExampleServer) -> Iterator[Any]:
    """`new_page(**context_options)`: a fresh browser context (own cookies) on the site.

    After the test, the server log must hold no traceback and no 5xx.
    """
    yield from _pages(browser, example_server)


@pytest.fixture
def new_account_links_page(browser: Any, account_links_server: ExampleServer) -> Iterator[Any]:
    """`new_page`, on the example project in Account Links mode."""
    yield from _pages(browser, account_links_server)


@pytest.fixture
def new_embedded_page(browser: Any, embedded_server: ExampleServer) -> Iterator[Any]:
    """`new_page`, on the example project in embedded onboarding mode."""
    yield from _pages(browser, embedded_server)


def screenshot(page: Any, name: str, full_page: bool = False) -> Path:
    """Keep what the user saw as a test artifact (artifacts/ is gitignored)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path
