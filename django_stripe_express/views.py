"""Thin views. The flow and webhook logic live in plain functions elsewhere.

TEMPORARY: the onboarding and webhook issues replace each body below.
"""

from django.http import HttpRequest, HttpResponse


def connect(request: HttpRequest) -> HttpResponse:
    raise NotImplementedError


def oauth_callback(request: HttpRequest) -> HttpResponse:
    raise NotImplementedError


def onboarding_refresh(request: HttpRequest) -> HttpResponse:
    raise NotImplementedError


def onboarding_return(request: HttpRequest) -> HttpResponse:
    raise NotImplementedError


def dashboard(request: HttpRequest) -> HttpResponse:
    raise NotImplementedError


def disconnect(request: HttpRequest) -> HttpResponse:
    raise NotImplementedError


def webhook(request: HttpRequest) -> HttpResponse:
    raise NotImplementedError
