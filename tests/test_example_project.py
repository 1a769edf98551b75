"""The example platform over real HTTP (no browser): pages, demo login, checks.

The project runs in its own process with its own settings and database (see
tests/browser/server.py); the browser tests drive the same server.
"""

from __future__ import annotations

import http.cookiejar
import re
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator

import pytest

from django_stripe_express.testing import FakeStripe

from .browser.server import EXAMPLE, ExampleServer

pytestmark = pytest.mark.skipif(
    not EXAMPLE.is_dir(), reason="example_project/ is not here (an sdist ships without it)"
)


class Visitor:
    """A cookie-keeping HTTP client that fills in Django's CSRF token."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.cookies = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.cookies))

    def get(self, path: str) -> tuple[int, str, str]:
        try:
            with self.opener.open(self.base + path, timeout=10) as response:
                return response.status, response.geturl(), response.read().decode()
        except urllib.error.HTTPError as error:
            with error:
                return error.code, error.geturl(), error.read().decode()

    def post(self, path: str, fields: dict[str, str]) -> tuple[int, str, str]:
        token = next(c.value for c in self.cookies if c.name == "csrftoken")
        data = urllib.parse.urlencode({**fields, "csrfmiddlewaretoken": token}).encode()
        request = urllib.request.Request(
            self.base + path, data=data, headers={"Referer": self.base + path}
        )
        try:
            with self.opener.open(request, timeout=10) as response:
                return response.status, response.geturl(), response.read().decode()
        except urllib.error.HTTPError as error:
            with error:
                return error.code, error.geturl(), error.read().decode()


def printed(server: ExampleServer, expression: str) -> list[str]:
    """The words ``print(expression)`` prints in the example's Django shell."""
    code = f"from django_stripe_express.conf import app_settings as s; print('SEEN', {expression})"
    out = server.manage("shell", "-c", code)
    (seen,) = [line for line in out.splitlines() if line.startswith("SEEN ")]
    return seen.split()[1:]


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeStripe]:
    with FakeStripe() as running:
        yield running


@pytest.fixture(scope="module")
def server(fake, tmp_path_factory) -> Iterator[ExampleServer]:
    with ExampleServer(tmp_path_factory.mktemp("example"), fake.url) as running:
        yield running


@pytest.fixture(scope="module")
def production_like(fake, tmp_path_factory) -> Iterator[ExampleServer]:
    with ExampleServer(
        tmp_path_factory.mktemp("example"), fake.url, DEBUG="false",
        DJANGO_SECRET_KEY="a-key-of-this-deployment-" + "k" * 30,
    ) as running:
        yield running


def test_system_checks_pass_without_warnings(server):
    out = server.manage("check", "--fail-level", "WARNING")
    assert "no issues" in out


def test_the_embedded_flow_passes_the_checks_offline(fake, tmp_path):
    server = ExampleServer(tmp_path, fake.url, STRIPE_ONBOARDING="embedded")
    assert "no issues" in server.manage("check", "--fail-level", "WARNING")
    assert printed(server, "s.PUBLISHABLE_KEY, s.CONNECT_JS_URL") == [
        "pk_test_fake", fake.connect_js_url,
    ]


def test_pages_send_a_strict_content_security_policy(server, fake):
    visitor = Visitor(server.url)
    with visitor.opener.open(server.url + "/login/", timeout=10) as response:
        policy = response.headers["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
    # Scripts from this site and Connect.js's host only: no 'unsafe-inline'.
    assert directives["script-src"] == f"'self' {fake.url} https://js.stripe.com"
    assert directives["frame-src"] == f"{fake.url} https://js.stripe.com"


def test_demo_users_is_idempotent(server):
    assert "alice, bob, carol, support" in server.manage("demo_users")
    server.manage("demo_users")
    assert server.query("SELECT count(*) FROM auth_user") == [(4,)]


def test_dashboard_needs_a_login(server):
    status, url, body = Visitor(server.url).get("/")
    assert status == 200
    assert url == f"{server.url}/login/?next=/"
    assert "Pick a demo user" in body


def test_log_in_with_a_password(server):
    visitor = Visitor(server.url)
    visitor.get("/login/")
    status, url, body = visitor.post("/login/", {"username": "alice", "password": "demo"})
    assert (status, url) == (200, f"{server.url}/")
    assert "Hello Alice" in body
    assert 'data-stripe-express-status="not_connected"' in body
    assert 'method="post" action="/stripe/connect/?next=%2F"' in body


def test_demo_users_page_logs_in_with_one_click(server):
    visitor = Visitor(server.url)
    status, _, body = visitor.get("/demo/users/")
    assert status == 200
    names = re.findall(r"Log in as (\w+)</button>", body)
    assert names == ["Alice", "Bob", "Carol", "Sam"]
    assert "Offline demo: Stripe is the local fake." in body

    status, url, body = visitor.post("/demo/login/", {"username": "bob"})
    assert (status, url) == (200, f"{server.url}/")
    assert "Hello Bob" in body


def test_staff_demo_user_lands_in_the_admin(server):
    visitor = Visitor(server.url)
    visitor.get("/demo/users/")
    status, url, body = visitor.post("/demo/login/", {"username": "support"})
    assert (status, url) == (200, f"{server.url}/admin/")
    assert "Express accounts" in body


def test_demo_login_needs_the_csrf_token(server):
    request = urllib.request.Request(
        f"{server.url}/demo/login/", data=b"username=alice", method="POST"
    )
    with pytest.raises(urllib.error.HTTPError) as error:
        urllib.request.urlopen(request, timeout=10)
    error.value.close()
    assert error.value.code == 403


def test_button_gallery_shows_every_state(server):
    status, _, body = Visitor(server.url).get("/demo/states/")
    assert status == 200
    assert re.findall(r'data-stripe-express-status="(\w+)"', body) == [
        "anonymous", "not_connected", "onboarding", "restricted",
        "pending_verification", "restricted", "enabled", "enabled", "disabled", "disabled",
        "disconnected",
    ]
    assert body.count("<style>") == 1


def test_without_debug_the_demo_shortcuts_are_gone(production_like):
    visitor = Visitor(production_like.url)
    # The list of every user (and "every password is demo") is DEBUG only.
    status, _, body = visitor.get("/demo/users/")
    assert status == 404
    assert "alice" not in body
    status, _, body = visitor.get("/login/")
    assert status == 200
    assert "/demo/users/" not in body
    assert "password <code>demo</code>" not in body
    assert visitor.get("/demo/states/")[0] == 404
    visitor.get("/login/")  # for a CSRF cookie: the POST must fail on DEBUG, not CSRF
    status, _, _ = visitor.post("/demo/login/", {"username": "alice"})
    assert status == 404
    # Still nobody logged in.
    assert visitor.get("/")[1].startswith(f"{production_like.url}/login/")


# -- safe to leave running: real keys never meet the fake's public credentials ---------


@pytest.fixture
def real_keys(tmp_path):
    """The example's environment with a (test) Stripe key of the developer's own."""

    def make(**env: str) -> ExampleServer:
        values = {
            "STRIPE_SECRET_KEY": "sk_test_developer_s_own",
            "STRIPE_WEBHOOK_SECRETS": "whsec_developerSOwn0123456789abcdefghijklmnop",
            "STRIPE_CLIENT_ID": "ca_developer_s_own",
            **env,
        }
        return ExampleServer(tmp_path, "http://127.0.0.1:9", **values)

    return make


@pytest.mark.parametrize(
    ("env", "missing"),
    [
        ({"STRIPE_WEBHOOK_SECRETS": ""}, "STRIPE_WEBHOOK_SECRETS"),
        ({"STRIPE_WEBHOOK_SECRETS": " , "}, "STRIPE_WEBHOOK_SECRETS"),
        ({"STRIPE_ONBOARDING": "oauth", "STRIPE_CLIENT_ID": ""}, "STRIPE_CLIENT_ID"),
        ({"STRIPE_ONBOARDING": "embedded"}, "STRIPE_PUBLISHABLE_KEY"),
        ({"DEBUG": "false", "DJANGO_SECRET_KEY": ""}, "DJANGO_SECRET_KEY"),
    ],
)
def test_a_missing_variable_stops_the_platform_and_is_named(real_keys, env, missing):
    result = real_keys(**env).run("check")
    assert result.returncode != 0
    assert f"The example platform needs {missing}" in result.stderr
    assert "whsec_developerSOwn0123456789abcdefghijklmnop" not in result.stderr


def test_real_keys_never_fall_back_to_the_fake_s_credentials(real_keys):
    server = real_keys(STRIPE_ONBOARDING="account_links", STRIPE_CLIENT_ID="")
    assert "no issues" in server.manage("check", "--fail-level", "WARNING")
    assert printed(server, "s.raw['CLIENT_ID'] or '-', s.WEBHOOK_SECRETS, 'API_BASE' in s.raw") == [
        "-", "['whsec_developerSOwn0123456789abcdefghijklmnop']", "False",
    ]


def test_the_support_superuser_exists_only_in_the_offline_demo(real_keys, tmp_path):
    offline = ExampleServer(tmp_path, "http://127.0.0.1:9")
    offline.manage("migrate", "--noinput")
    offline.manage("demo_users")
    assert offline.query(
        "SELECT is_active, is_superuser FROM auth_user WHERE username = 'support'"
    ) == [(1, 1)]

    online = real_keys()  # the same database, now with real keys
    out = online.manage("demo_users")
    assert "Deactivated the demo user 'support'" in out
    # Every known-password user goes, not only the superuser.
    assert online.query(
        "SELECT username, is_active, is_staff, is_superuser FROM auth_user ORDER BY username"
    ) == [("alice", 0, 0, 0), ("bob", 0, 0, 0), ("carol", 0, 0, 0), ("support", 0, 0, 0)]


def test_with_real_keys_from_scratch_there_are_no_demo_users(real_keys):
    server = real_keys()
    server.manage("migrate", "--noinput")
    server.manage("demo_users")
    assert server.query("SELECT count(*) FROM auth_user") == [(0,)]


def test_offline_with_debug_off_there_are_no_demo_users(production_like):
    production_like.manage("migrate", "--noinput")
    out = production_like.manage("demo_users")
    assert "only offline with DEBUG on" in out
    assert production_like.query("SELECT count(*) FROM auth_user") == [(0,)]


def connect_as(server, username: str) -> str:
    """Log in with one click and press "Connect with Stripe"; where it lands."""
    visitor = Visitor(server.url)
    visitor.get("/demo/users/")
    visitor.post("/demo/login/", {"username": username})
    status, url, body = visitor.post("/stripe/connect/", {})
    assert status == 200, body
    return url


def accounts_api_of(server, username: str) -> str:
    ((api,),) = server.query(
        "SELECT a.accounts_api FROM django_stripe_express_expressaccount a"
        " JOIN auth_user u ON u.id = a.user_id WHERE u.username = ?",
        username,
    )
    return str(api)


def test_the_demo_creates_v2_accounts(server, fake):
    url = connect_as(server, "alice")

    assert url.startswith(f"{fake.url}/setup/e/acct_")
    assert accounts_api_of(server, "alice") == "v2"
    stripe_id = url.split("/")[-2]
    assert fake.accounts[stripe_id]["object"] == "v2.core.account"


def test_one_variable_switches_the_demo_to_v1(fake, tmp_path_factory):
    with ExampleServer(
        tmp_path_factory.mktemp("example"), fake.url, STRIPE_ACCOUNTS_API="v1"
    ) as v1_server:
        url = connect_as(v1_server, "bob")

        assert accounts_api_of(v1_server, "bob") == "v1"
        # The dashboard reads a v1 account's schedule from its settings.
        _, _, dashboard = onboarded(v1_server, fake, "carol").get("/")
        assert "Every day, 2 days after each sale." in dashboard
    stripe_id = url.split("/")[-2]
    assert fake.accounts[stripe_id]["type"] == "express"


def test_real_keys_load_stripe_s_connect_js_not_the_stand_in(real_keys):
    server = real_keys(STRIPE_ONBOARDING="embedded", STRIPE_PUBLISHABLE_KEY="pk_test_own")
    assert "no issues" in server.manage("check", "--fail-level", "WARNING")
    assert printed(server, "s.PUBLISHABLE_KEY, s.CONNECT_JS_URL") == [
        "pk_test_own", "https://connect-js.stripe.com/v1.0/connect.js",
    ]


def onboarded(server, fake, username: str) -> Visitor:
    """A demo user logged in, connected and through the fake's onboarding page."""
    visitor = Visitor(server.url)
    visitor.get("/demo/users/")
    visitor.post("/demo/login/", {"username": username})
    _status, setup_url, _body = visitor.post("/stripe/connect/", {})
    assert setup_url.startswith(fake.url), setup_url
    visitor.opener.open(setup_url, timeout=10).close()  # the page opens the link
    form = urllib.parse.urlencode({"action": "agree", "finish": "on"}).encode()
    with visitor.opener.open(urllib.request.Request(setup_url, data=form), timeout=10) as back:
        assert back.geturl() == f"{server.url}/", back.geturl()
    return visitor


@pytest.fixture(scope="module")
def shop_server(fake, tmp_path_factory) -> Iterator[ExampleServer]:
    """The demo with its own database; Stripe's events are not forwarded here,
    so what the pages show comes from the views' own calls."""
    with ExampleServer(tmp_path_factory.mktemp("example"), fake.url,
                       STRIPE_BALANCE_CACHE_SECONDS="0") as running:
        yield running


def test_a_buyer_pays_a_maker_with_a_destination_charge_once(shop_server, fake):
    alice = onboarded(shop_server, fake, "alice")
    alice_id = shop_server.account_of("alice")[0]
    buyer = Visitor(shop_server.url)
    buyer.get("/demo/users/")
    buyer.post("/demo/login/", {"username": "carol"})

    status, _, shop = buyer.get("/shop/")
    assert status == 200
    assert "Buy the walnut bowl" in shop
    assert "Not for sale yet: the maker has not set up payouts" in shop  # bob's mug
    order = re.search(r'action="/shop/walnut-bowl/buy/">.*?name="order" value="(\w+)"', shop,
                      re.S)[1]

    for _click in range(2):  # a double click: one payment (the order is the key)
        status, url, page = buyer.post("/shop/walnut-bowl/buy/", {"order": order})
        assert (status, url) == (200, f"{shop_server.url}/shop/")
        assert ("You bought the walnut bowl from Alice Martin for $45.00. Alice Martin "
                "receives $40.50 in their Stripe balance; Makers Market keeps $4.50.") in page
    (transfer,) = fake.transfers_made(destination=alice_id)
    assert transfer["amount"] == 4050
    intents = [r for r in fake.requests_to("/v1/payment_intents", "POST")
               if r.path == "/v1/payment_intents"]
    assert len(intents) == 2
    assert len({r.header("Idempotency-Key") for r in intents}) == 1
    assert shop_server.query(
        "SELECT status, amount, stripe_id FROM django_stripe_express_transfer") == [
        ("sent", 4050, transfer["id"])]

    _, _, dashboard = alice.get("/")
    ledger = dashboard.split('data-testid="ledger"')[1]
    assert "$40.50" in ledger
    assert ">Sent<" in ledger
    assert "payment_intent:pi_" in ledger
    assert 'data-stripe-express-balance="pending" data-currency="usd">$40.50<' in dashboard
    assert "Every day, 2 days after each sale." in dashboard
    assert "None on its way yet" in dashboard


def test_the_shop_refuses_a_tampered_order_one_s_own_item_and_an_unpayable_maker(
    shop_server, fake
):
    carol = Visitor(shop_server.url)
    carol.get("/demo/users/")
    carol.post("/demo/login/", {"username": "carol"})
    calls = len(fake.requests_to("/v1/payment_intents", "POST"))
    status, _, _ = carol.post("/shop/oak-board/buy/", {"order": "x"})
    assert status == 400
    status, _, page = carol.post("/shop/oak-board/buy/", {"order": "a" * 32})
    assert "This is your own item." in page
    status, _, page = carol.post("/shop/stoneware-mug/buy/", {"order": "b" * 32})
    assert "Bob Okafor cannot be paid yet (their Stripe account is not ready): nothing was " \
        "charged." in page
    status, _, _ = carol.post("/shop/no-such-thing/buy/", {"order": "a" * 32})
    assert status == 404
    assert len(fake.requests_to("/v1/payment_intents", "POST")) == calls
