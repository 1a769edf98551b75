"""The one read every delivery makes: the account, and whether the event was seen.

It runs for every delivery, duplicates included, and compiling it through the
ORM costs several times more than running it. So the ORM writes the SQL once
per database (with placeholder parameters whose order says where each real
one goes), along with its value converters, and each delivery only executes
it and builds the instance with ``Model.from_db``. On PostgreSQL, `fast_path`
runs the same SQL as the first part of its statement.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Subquery

from ..models import ExpressAccount, WebhookEvent

_ACCOUNT, _EVENT = "\x00account", "\x00event"  # placeholders, never sent


#: The name of the extra column (the event's stored status) in `Plan.sql`.
EVENT_STATUS = "webhook_event_status"


@dataclass(frozen=True)
class Plan:
    sql: str
    order: tuple[str, ...]  # which placeholder each parameter is
    attnames: list[str]  # the model's columns, in SELECT order
    converters: list[tuple[int, list[Any], Any]]


@functools.lru_cache(maxsize=8)
def compiled(alias: str) -> Plan:
    seen = WebhookEvent.objects.using(alias).filter(stripe_id=_EVENT).order_by()
    rows = (
        ExpressAccount.objects.using(alias)
        .filter(stripe_id=_ACCOUNT)
        .annotate(**{EVENT_STATUS: Subquery(seen.values("status")[:1])})
        .order_by()[:1]
    )
    compiler = rows.query.get_compiler(using=alias)
    sql, placeholders = compiler.as_sql()
    expressions = [expression for expression, _, _ in compiler.select]
    converters = [
        (position, convs, expression)
        for position, (convs, expression) in compiler.get_converters(expressions).items()
    ]
    attnames = [field.attname for field in ExpressAccount._meta.concrete_fields]
    return Plan(sql, tuple(placeholders), attnames, converters)


def account_and_event_status(
    account_id: str, event_id: str, db: BaseDatabaseWrapper
) -> tuple[ExpressAccount | None, str | None]:
    """The account (None if unknown) and the stored status of the event (None if new)."""
    plan = compiled(db.alias)
    with db.cursor() as cursor:
        cursor.execute(plan.sql, params(plan, account_id, event_id))
        fetched = cursor.fetchone()
    if fetched is None:
        return None, None
    return from_row(plan, fetched, db)


def params(plan: Plan, account_id: str, event_id: str) -> list[str]:
    """`plan.sql`'s parameters."""
    values = {_ACCOUNT: account_id, _EVENT: event_id}
    return [values[name] for name in plan.order]


def from_row(
    plan: Plan, fetched: Sequence[Any], db: BaseDatabaseWrapper
) -> tuple[ExpressAccount, str | None]:
    """The account and the event's status in a row that `plan.sql` returned."""
    row = list(fetched)
    for position, convs, expression in plan.converters:
        value = row[position]
        for convert in convs:
            value = convert(value, expression, db)
        row[position] = value
    count = len(plan.attnames)
    account = ExpressAccount.from_db(db.alias, plan.attnames, row[:count])
    return account, row[count]
