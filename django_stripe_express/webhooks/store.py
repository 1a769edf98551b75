"""The two writes of an applied event, as cheaply as the database allows.

Every delivery runs the same few statements, and compiling them through the
ORM costs several times more than running them. So the SQL is built once per
database connection and shape from the models' own metadata (table and column
names, value adaptation through each field's ``get_db_prep_*``) and cached.

On PostgreSQL the account UPDATE and the event INSERT are one statement (a
data-modifying CTE): atomic without BEGIN/COMMIT round trips, and the INSERT
only happens when the UPDATE matched. Elsewhere they run in one transaction.
Model ``save`` signals are not sent for these rows (as with ``QuerySet.update``).
"""

from __future__ import annotations

import functools
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Field

from ..models import ExpressAccount, WebhookEvent
from .errors import AlreadyProcessed

EVENT_FIELDS: list[Field[Any, Any]] = [
    f for f in WebhookEvent._meta.concrete_fields if not f.primary_key
]


# The SQL below is assembled from model metadata only (quoted identifiers and
# column types); every value is a query parameter, hence the `noqa: S608`.


def quote(name: str | None) -> str:
    assert name is not None
    return connection.ops.quote_name(name)


def model_field(model: type[ExpressAccount] | type[WebhookEvent], name: str) -> Field[Any, Any]:
    field = model._meta.get_field(name)
    assert isinstance(field, Field)
    return field


@functools.lru_cache(maxsize=64)
def _update_sql(vendor: str, fields: tuple[str, ...], mark_is_null: bool) -> str:
    meta = ExpressAccount._meta
    sets = ", ".join(f"{quote(model_field(ExpressAccount, name).column)} = %s" for name in fields)
    pk = quote(meta.pk.column)
    updated_at = quote(model_field(ExpressAccount, "updated_at").column)
    mark = quote(model_field(ExpressAccount, "last_event_created").column)
    return (
        f"UPDATE {quote(meta.db_table)} SET {sets} "  # noqa: S608
        f"WHERE {pk} = %s AND {updated_at} = %s "
        f"AND {mark} {'IS NULL' if mark_is_null else '= %s'}"
    )


@functools.lru_cache(maxsize=8)
def _insert_sql(vendor: str, returning: bool) -> str:
    meta = WebhookEvent._meta
    columns = ", ".join(quote(f.column) for f in EVENT_FIELDS)
    values = ", ".join(["%s"] * len(EVENT_FIELDS))
    sql = f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES ({values})"  # noqa: S608
    return f"{sql} RETURNING {quote(meta.pk.column)}" if returning else sql


def insert_if_sql(cte: str) -> str:
    """An INSERT of one event (`event_params`) that happens only if `cte` returned a row."""
    meta = WebhookEvent._meta
    columns = ", ".join(quote(f.column) for f in EVENT_FIELDS)
    # Typed, because the values are a SELECT list, not a VALUES row.
    values = ", ".join(f"CAST(%s AS {f.cast_db_type(connection)})" for f in EVENT_FIELDS)
    return (
        f"INSERT INTO {quote(meta.db_table)} ({columns}) SELECT {values} "  # noqa: S608
        f"WHERE EXISTS (SELECT 1 FROM {cte}) RETURNING {quote(meta.pk.column)}"
    )


@functools.lru_cache(maxsize=64)
def _cte_sql(vendor: str, fields: tuple[str, ...], mark_is_null: bool) -> str:
    return (
        f"WITH changed AS ({_update_sql(vendor, fields, mark_is_null)} RETURNING 1) "
        f"{insert_if_sql('changed')}"
    )


def _update_params(
    account: ExpressAccount, fields: tuple[str, ...], version: tuple[Any, Any]
) -> list[Any]:
    params = [
        model_field(ExpressAccount, name).get_db_prep_save(getattr(account, name), connection)
        for name in fields
    ]
    updated_at, mark = version
    params += [
        account.pk,
        model_field(ExpressAccount, "updated_at").get_db_prep_value(updated_at, connection),
    ]
    if mark is not None:
        field = model_field(ExpressAccount, "last_event_created")
        params.append(field.get_db_prep_value(mark, connection))
    return params


def event_params(event: WebhookEvent, db: BaseDatabaseWrapper = connection) -> list[Any]:
    return [f.get_db_prep_save(f.pre_save(event, add=True), db) for f in EVENT_FIELDS]


def mark_saved(
    event: WebhookEvent, pk: Any, db: BaseDatabaseWrapper = connection
) -> WebhookEvent:
    event.pk = pk
    event._state.adding = False
    event._state.db = db.alias
    return event


def insert_event(event: WebhookEvent) -> WebhookEvent:
    """INSERT `event`; `AlreadyProcessed` when its ``stripe_id`` is already stored."""
    returning = bool(connection.features.can_return_columns_from_insert)
    try:
        with connection.cursor() as cursor:
            cursor.execute(_insert_sql(connection.vendor, returning), event_params(event))
            pk = cursor.fetchone()[0] if returning else cursor.lastrowid
    except IntegrityError:
        raise AlreadyProcessed(event.stripe_id) from None
    return mark_saved(event, pk)


def update_account(
    account: ExpressAccount, fields: tuple[str, ...], version: tuple[Any, Any]
) -> bool:
    """UPDATE `fields` if the row is still at `version`; whether it was."""
    sql = _update_sql(connection.vendor, fields, version[1] is None)
    with connection.cursor() as cursor:
        cursor.execute(sql, _update_params(account, fields, version))
        return bool(cursor.rowcount == 1)


def update_and_insert(
    account: ExpressAccount,
    fields: tuple[str, ...],
    version: tuple[Any, Any],
    event: WebhookEvent,
) -> WebhookEvent | None:
    """Write the account (if still at `version`) and record `event`, all or nothing.

    None when the account changed since it was read (nothing written);
    `AlreadyProcessed` when another delivery recorded the event first.
    """
    if connection.vendor == "postgresql":
        sql = _cte_sql(connection.vendor, fields, version[1] is None)
        params = _update_params(account, fields, version) + event_params(event)
        try:
            with connection.cursor() as cursor:
                cursor.execute(sql, params)
                row = cursor.fetchone()
        except IntegrityError:
            raise AlreadyProcessed(event.stripe_id) from None
        return None if row is None else mark_saved(event, row[0])
    with transaction.atomic(savepoint=False):
        if not update_account(account, fields, version):
            return None
        return insert_event(event)
