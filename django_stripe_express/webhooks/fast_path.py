"""On PostgreSQL, a new ``account.updated`` applied in one round trip.

Most deliveries are new, in-order ``account.updated`` events for known,
connected accounts, and their outcome depends on nothing but the payload once
the account's row confirms four things: the account is connected, the event
was not seen before, no newer ``account.updated`` was applied, and no
``capability.updated`` newer than the event must be kept. So the handler runs
on a blank account, and one statement (data-modifying CTEs) checks those
things against the row, writes the account, records the event, and returns
the row as it was read.

When a check fails, nothing is written and `process` goes on from the returned
row exactly as if `lookup` had read it: the usual path, without another query.

The UPDATE also requires the row's ``updated_at`` to be the one read. Under
READ COMMITTED, PostgreSQL re-checks the WHERE clause against a row that a
concurrent transaction changed meanwhile, so the write only happens over the
row as read, and the previous status given to signal receivers is the one
really replaced.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, connections
from django.db.backends.base.base import BaseDatabaseWrapper

from ..conf import app_settings
from ..models import ExpressAccount, WebhookEvent
from . import handlers, lookup, store
from .errors import AlreadyProcessed
from .event import StripeEvent
from .record import new_row

# The SQL below is assembled from model metadata only (quoted identifiers and
# column types); every value is a query parameter, hence the `noqa: S608`.


@dataclass(frozen=True)
class Attempt:
    """What the statement found, and whether it applied the event."""

    account: ExpressAccount | None  # None: unknown account; the new values if applied
    event_status: str | None  # the event's stored status, None if new
    recorded: WebhookEvent | None = None  # the event's row, when applied
    previous_status: str = ""


def applies(event: StripeEvent, db: BaseDatabaseWrapper) -> bool:
    """Whether `event` may take the fast path on `db`."""
    return (
        db.vendor == "postgresql"
        and event.type == "account.updated"
        and event.livemode == app_settings.livemode
        and not app_settings.WEBHOOK_REFETCH_ACCOUNT
    )


@functools.lru_cache(maxsize=8)
def _sql(alias: str, fields: tuple[str, ...]) -> str:
    db = connections[alias]
    table = store.quote(ExpressAccount._meta.db_table, db)

    def column(name: str) -> str:
        return f"{table}.{store.account_column(name, db)}"

    pk = store.quote(ExpressAccount._meta.pk.column, db)
    mark, marks = column("last_event_created"), column("capability_event_created")
    checks = [
        f"{table}.{pk} = old.{pk}",
        f"old.{store.quote(lookup.EVENT_STATUS, db)} IS NULL",  # a new event
        # The row as read.
        f"{column('updated_at')} = old.{store.account_column('updated_at', db)}",
        f"{column('deauthorized_at')} IS NULL",  # connected
        f"({mark} IS NULL OR {mark} <= %s)",  # not stale
        # No capability mark (a capability.updated's `created`) after the event.
        f"NOT COALESCE(jsonb_path_exists({marks}, '$.* ? (@ > $created)', "
        "jsonb_build_object('created', %s), true), false)",
    ]
    sets = ", ".join(f"{store.account_column(name, db)} = %s" for name in fields)
    read = lookup.compiled(alias).sql
    return (
        f"WITH old AS ({read}), "  # noqa: S608
        f"changed AS (UPDATE {table} SET {sets} FROM old "
        f"WHERE {' AND '.join(checks)} RETURNING 1), "
        f"recorded AS ({store.insert_if_sql('changed', db)}) "
        "SELECT old.*, (SELECT * FROM recorded) FROM old"
    )


def apply_account_updated(
    event: StripeEvent, account_id: str, db: BaseDatabaseWrapper
) -> Attempt:
    """Apply `event` in one statement if it is new and in order; else report the row.

    `AlreadyProcessed` when another delivery recorded the event first.
    """
    # The handler on a blank (connected, never updated) account: what it
    # writes when the statement's checks hold.
    blank = ExpressAccount()
    change = handlers.account_updated(blank, event, event.object)
    assert isinstance(change, handlers.Change)  # a blank account has no marks
    fields = store.stamped(blank, change.fields)
    plan = lookup.compiled(db.alias)
    row = new_row(event, WebhookEvent.Status.PROCESSED)
    params: list[Any] = [
        *lookup.params(plan, account_id, event.id),
        *store.account_params(blank, fields, db),
        store.time_param("last_event_created", event.created, db),
        event.created_ts,
        *store.event_params(row, db),
    ]
    try:
        with db.cursor() as cursor:
            cursor.execute(_sql(db.alias, fields), params)
            fetched = cursor.fetchone()
    except IntegrityError:
        raise AlreadyProcessed(event.id) from None
    if fetched is None:
        return Attempt(None, None)
    account, status = lookup.from_row(plan, fetched, db)
    pk = fetched[-1]
    if pk is None:
        return Attempt(account, status)
    previous_status = account.status
    for name in fields:
        setattr(account, name, getattr(blank, name))
    return Attempt(account, None, store.mark_saved(row, pk, db), previous_status)
