import stripe

from django_stripe_express.stripe_api import get_client


def test_client_is_built_from_settings(settings):
    settings.STRIPE_EXPRESS = {
        "SECRET_KEY": "sk_test_a",
        "CLIENT_ID": "ca_a",
        "API_BASE": "http://127.0.0.1:1",
        "CONNECT_BASE": "http://127.0.0.1:2",
        "MAX_NETWORK_RETRIES": 3,
    }
    client = get_client()
    url = client.oauth.authorize_url({"state": "s"}, {"express": True})
    assert url.startswith("http://127.0.0.1:2/express/oauth/authorize?")
    assert "client_id=ca_a" in url
    options = client._requestor._options
    assert options.api_key == "sk_test_a"
    assert options.base_addresses["api"] == "http://127.0.0.1:1"
    assert options.max_network_retries == 3


def test_client_follows_setting_changes(settings):
    settings.STRIPE_EXPRESS = {"SECRET_KEY": "sk_test_a"}
    first = get_client()
    assert get_client() is first
    settings.STRIPE_EXPRESS = {"SECRET_KEY": "sk_test_b"}
    assert get_client() is not first
    assert get_client()._requestor._options.api_key == "sk_test_b"


def test_stripe_module_globals_are_left_alone(settings):
    before = (stripe.api_key, stripe.client_id, stripe.api_base, stripe.connect_api_base)
    settings.STRIPE_EXPRESS = {"SECRET_KEY": "sk_test_c", "CLIENT_ID": "ca_c"}
    get_client()
    assert (stripe.api_key, stripe.client_id, stripe.api_base, stripe.connect_api_base) == before
