from django.test import RequestFactory

from django_stripe_express.onboarding.common import default_prefill, prefill_for

from .factories import UserFactory


def custom_prefill(request):
    return {
        "email": "shop@example.com",
        "business_name": "Ada's Bakery",
        "url": "",
        "password": "never sent",
        "phone_number": 5551234,
        # "Standard only" in Stripe's OAuth reference: dropped for Express.
        "street_address": "1 Main St",
        "city": "Springfield",
        "zip": "12345",
        "currency": "usd",
        "physical_product": "true",
        "first_name_kana": "エイダ",
    }


def request_for(user):
    request = RequestFactory().get("/")
    request.user = user
    return request


def test_default_prefill_uses_what_the_user_model_has(db):
    user = UserFactory(email="ada@example.com", first_name="Ada", last_name="")
    assert default_prefill(request_for(user)) == {"email": "ada@example.com", "first_name": "Ada"}


def test_custom_prefill_is_limited_to_the_fields_express_honours(db, settings):
    settings.STRIPE_EXPRESS = {**settings.STRIPE_EXPRESS, "PREFILL": f"{__name__}.custom_prefill"}
    assert prefill_for(request_for(UserFactory())) == {
        "email": "shop@example.com",
        "business_name": "Ada's Bakery",
        "phone_number": "5551234",
        "first_name_kana": "エイダ",
    }


def test_prefill_can_be_turned_off(db, settings):
    settings.STRIPE_EXPRESS = {**settings.STRIPE_EXPRESS, "PREFILL": None}
    assert prefill_for(request_for(UserFactory())) == {}
