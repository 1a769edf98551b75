"""Where Stripe sends events: webhook endpoints (``/v1/webhook_endpoints``) and
event destinations (``/v2/core/event_destinations``), created and listed as
Stripe does, for ``manage.py stripe_express_webhooks --check``.

The fake only stores them: it forwards events through `forwarding`, not to
these URLs. As at Stripe, a v1 endpoint's object does not say whether it is a
Connect endpoint (``connect`` is a create parameter only), and an event
destination's ``webhook_endpoint.url`` is answered only when asked for with
``include=webhook_endpoint.url``; its signing secret only in the create answer.
"""

from __future__ import annotations

import copy
import datetime
import re
from typing import Any

import stripe.params as P

from . import objects
from .api import _limit, page
from .api_v2 import _body, error
from .objects_v2 import _list_page
from .schema import _validated
from .server import Response, _Routes
from .state import RecordedRequest, _State

_PAYLOADS = ("snapshot", "thin")
_URL_INCLUDE = "webhook_endpoint.url"


@_validated(P.WebhookEndpointCreateParams)
def _create_webhook_endpoint(state: _State, request: RecordedRequest) -> Response:
    params = request.form
    endpoint = {
        "id": objects._random_id("we_", 24),
        "object": "webhook_endpoint",
        "api_version": params.get("api_version"),
        "application": None,
        "created": objects.now(),
        "description": params.get("description"),
        "enabled_events": list(params["enabled_events"]),
        "livemode": False,
        "metadata": dict(params.get("metadata") or {}),
        "secret": None,
        "status": "enabled",
        "url": params["url"],
    }
    state.webhook_endpoints[endpoint["id"]] = endpoint
    return Response.json(200, {**copy.deepcopy(endpoint),
                               "secret": "whsec_" + objects._random_id("", 32)})


@_validated(P.WebhookEndpointListParams)
def _list_webhook_endpoints(state: _State, request: RecordedRequest) -> Response:
    endpoints = list(reversed(state.webhook_endpoints.values()))  # newest first
    return page(endpoints, request.query, "/v1/webhook_endpoints", "webhook endpoint")


def _iso(seconds: int) -> str:
    return datetime.datetime.fromtimestamp(seconds, datetime.timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%S.000Z")


def _create_event_destination(state: _State, request: RecordedRequest) -> Response:
    body = _body(request, P.v2.core.EventDestinationCreateParams)
    if isinstance(body, Response):
        return body
    if body["type"] != "webhook_endpoint":
        return error(400, "The fake only delivers to webhook endpoints.", code="invalid_fields")
    if body["event_payload"] not in _PAYLOADS:
        return error(400, "event_payload: must be snapshot or thin.", code="invalid_fields")
    url = (body.get("webhook_endpoint") or {}).get("url")
    if not url:
        return error(400, "webhook_endpoint.url: is required.", code="invalid_fields")
    created = _iso(objects.now())
    destination = {
        "id": objects._random_id("ed_test_", 24),
        "object": "v2.core.event_destination",
        "amazon_eventbridge": None,
        "azure_event_grid": None,
        "created": created,
        "description": body.get("description") or "",
        "enabled_events": list(body["enabled_events"]),
        "event_payload": body["event_payload"],
        "events_from": list(body.get("events_from") or ["@self"]),
        "livemode": False,
        "metadata": dict(body.get("metadata") or {}),
        "name": body["name"],
        "snapshot_api_version": body.get("snapshot_api_version"),
        "status": "enabled",
        "status_details": None,
        "type": "webhook_endpoint",
        "updated": created,
        "webhook_endpoint": {"signing_secret": None, "url": url},
    }
    state.event_destinations[destination["id"]] = destination
    answer = _shown(destination, include_url=True)
    answer["webhook_endpoint"]["signing_secret"] = "whsec_" + objects._random_id("", 32)
    return Response.json(200, answer)


def _shown(destination: dict[str, Any], *, include_url: bool) -> dict[str, Any]:
    shown = copy.deepcopy(destination)
    if not include_url:
        shown["webhook_endpoint"]["url"] = None
    return shown


def _list_event_destinations(state: _State, request: RecordedRequest) -> Response:
    include = _query_include_url(request)
    if isinstance(include, Response):
        return include
    limit = _limit(request.query.get("limit"))
    if isinstance(limit, Response):
        return limit
    destinations = list(reversed(state.event_destinations.values()))  # newest first
    page = str(request.query.get("page") or "")
    start = 0
    if page:
        match = re.fullmatch(r"page_(\d+)", page)
        if match is None:
            return error(400, "page: is not a page token from this list.",
                         code="invalid_fields")
        start = int(match.group(1))
    data = [_shown(d, include_url=include) for d in destinations[start:start + limit]]
    more = start + limit < len(destinations)
    next_url = f"/v2/core/event_destinations?limit={limit}&page=page_{start + limit}"
    if include:
        next_url += f"&include[0]={_URL_INCLUDE}"
    return Response.json(200, _list_page(data, next_url if more else None, None))


def _query_include_url(request: RecordedRequest) -> bool | Response:
    values = [v for k, v in request.pairs if k == "include" or k.startswith("include[")]
    for value in values:
        if value != _URL_INCLUDE:
            return error(400, f"include: '{value}' is not one of {_URL_INCLUDE}.",
                         code="invalid_fields")
    return bool(values)


ROUTES: _Routes = [
    ("POST", re.compile(r"/v1/webhook_endpoints"), _create_webhook_endpoint),
    ("GET", re.compile(r"/v1/webhook_endpoints"), _list_webhook_endpoints),
    ("POST", re.compile(r"/v2/core/event_destinations"), _create_event_destination),
    ("GET", re.compile(r"/v2/core/event_destinations"), _list_event_destinations),
]
