"""The connect attempt admin: read-only, filterable, and never showing the state."""

from __future__ import annotations

import datetime

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from django_stripe_express.models import ConnectAttempt

from .admin_support import action_names, staff_client, superuser_client
from .factories import ConnectAttemptFactory

pytestmark = pytest.mark.django_db


Outcome = ConnectAttempt.Outcome


def url(name: str, *args) -> str:
    return reverse(f"admin:django_stripe_express_connectattempt_{name}", args=args)


def test_list_shows_each_attempt_without_its_state():
    declined = ConnectAttemptFactory(
        outcome=Outcome.DECLINED, error_code="access_denied", finished_at=timezone.now()
    )
    pending = ConnectAttemptFactory()
    client = staff_client("view_connectattempt")

    response = client.get(url("changelist"))

    assert response.status_code == 200
    html = response.content.decode()
    assert "Declined by the user" in html
    assert "access_denied" in html
    assert str(declined.user) in html
    assert declined.state not in html
    assert pending.state not in html
    assert action_names(response) == []  # no delete for staff


def test_change_page_is_read_only_and_hides_the_state():
    attempt = ConnectAttemptFactory(
        outcome=Outcome.INVALID_GRANT,
        error_code="invalid_grant",
        error_description="This authorization code has expired.",
    )
    client = staff_client("view_connectattempt")

    response = client.get(url("change", attempt.pk))

    assert response.status_code == 200
    html = response.content.decode()
    assert "This authorization code has expired." in html
    assert attempt.state not in html
    assert 'name="_save"' not in html
    assert client.post(url("change", attempt.pk), {}).status_code == 403
    assert client.get(url("add")).status_code == 403
    assert client.get(url("delete", attempt.pk)).status_code == 403


def test_state_is_not_searchable():
    attempt = ConnectAttemptFactory()
    response = superuser_client().get(url("changelist"), {"q": attempt.state})
    assert list(response.context["cl"].result_list) == []


def test_even_the_change_permission_edits_nothing():
    attempt = ConnectAttemptFactory()
    client = staff_client("view_connectattempt", "change_connectattempt")
    response = client.post(url("change", attempt.pk), {"outcome": "connected"})
    assert response.status_code == 403
    attempt.refresh_from_db()
    assert attempt.outcome == Outcome.PENDING


def test_only_a_superuser_deletes():
    attempt = ConnectAttemptFactory()
    client = staff_client("view_connectattempt", "delete_connectattempt")
    assert client.post(url("delete", attempt.pk), {"post": "yes"}).status_code == 403
    response = superuser_client().post(url("delete", attempt.pk), {"post": "yes"})
    assert response.status_code == 302
    assert not ConnectAttempt.objects.filter(pk=attempt.pk).exists()


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"outcome__exact": "declined"}, {"declined"}),
        ({"outcome__exact": "stripe_unreachable"}, {"unreachable"}),
        ({"flow__exact": "account_links"}, {"links"}),
        ({"q": "ada_lovelace"}, {"declined"}),
        ({"q": "grace@example.org"}, {"links"}),
        ({"created_at__year": "2000", "created_at__month": "1"}, {"old"}),
    ],
)
def test_filters_and_search(query, expected):
    rows = {
        "declined": ConnectAttemptFactory(
            outcome=Outcome.DECLINED, user__username="ada_lovelace"
        ),
        "unreachable": ConnectAttemptFactory(outcome=Outcome.STRIPE_UNREACHABLE),
        "links": ConnectAttemptFactory(
            flow=ConnectAttempt.Flow.ACCOUNT_LINKS, user__email="grace@example.org"
        ),
        "old": ConnectAttemptFactory(
            created_at=datetime.datetime(2000, 1, 1, 12, tzinfo=datetime.timezone.utc)
        ),
    }
    response = staff_client("view_connectattempt").get(url("changelist"), query)
    assert response.status_code == 200
    shown = {a.pk for a in response.context["cl"].result_list}
    assert {name for name, a in rows.items() if a.pk in shown} == expected


def test_query_count_does_not_grow_with_rows():
    client = staff_client("view_connectattempt")
    ConnectAttemptFactory.create_batch(3)
    with CaptureQueriesContext(connection) as few:
        assert client.get(url("changelist")).status_code == 200

    users = get_user_model().objects.bulk_create(
        get_user_model()(username=f"att{i}") for i in range(300)
    )
    ConnectAttempt.objects.bulk_create(
        ConnectAttempt(user=u, state_hash=f"s{i}", expires_at=timezone.now(), outcome="declined")
        for i, u in enumerate(users)
    )
    with CaptureQueriesContext(connection) as many:
        response = client.get(url("changelist"))
    assert len(response.context["cl"].result_list) == 100
    assert len(many) == len(few), [q["sql"] for q in many]
    print(f"\nConnectAttempt changelist: {len(few)} queries for 3 rows, {len(many)} for 303")
