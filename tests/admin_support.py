"""Helpers for the admin tests: staff users holding exactly the given permissions."""

from __future__ import annotations

from django.contrib.auth.models import Permission
from django.test import Client

from .factories import UserFactory


def staff_client(*codenames: str) -> Client:
    """A client logged in as a staff user (not a superuser) with only ``codenames``.

    Codenames are ``view_expressaccount``, ``change_webhookevent`` and the like,
    from this app.
    """
    user = UserFactory(is_staff=True)
    # "auth.view_user" and the like name another app's permission.
    own = [c for c in codenames if "." not in c]
    others = [c.split(".", 1) for c in codenames if "." in c]
    perms = list(Permission.objects.filter(
        content_type__app_label="django_stripe_express", codename__in=own
    ))
    perms += [
        Permission.objects.get(content_type__app_label=app, codename=codename)
        for app, codename in others
    ]
    assert len(perms) == len(codenames), codenames
    user.user_permissions.set(perms)
    client = Client()
    client.force_login(user)
    return client


def superuser_client() -> Client:
    user = UserFactory(is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(user)
    return client


def action_names(response) -> list[str]:
    """The actions offered in a changelist's action menu."""
    form = response.context["action_form"]
    if form is None:  # no action allowed at all
        return []
    return [name for name, _label in form.fields["action"].choices if name]


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []
