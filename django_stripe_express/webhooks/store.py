"""The webhook's database, and the two writes of an applied event, fast.

Every delivery runs the same few statements, and compiling them through the
ORM costs several times more than running them. So the SQL is built once per
database and shape from the models' own metadata (table and column names,
value adaptation through each field's ``get_db_prep_*``) and cached.

On PostgreSQL the account UPDATE and the event INSERT are one statement (a
data-modifying CTE): atomic without BEGIN/COMMIT round trips, and the INSERT
only happens when the UPDATE matched. Elsewhere they run in one transaction.
Model ``save`` signals are not sent for these rows (as with ``QuerySet.update``).
"""

from __future__ import annotations

import functools
from typing import Any

from django.db import IntegrityError, connections, router, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Field
from django.utils import timezone

from ..models import ExpressAccount, WebhookEvent
from .errors import AlreadyProcessed

EVENT_FIELDS: list[Field[Any, Any]] = [
    f for f in WebhookEvent._meta.concrete_fields if not f.primary_key
]


def database() -> BaseDatabaseWrapper:
    """Where the webhook reads and writes: the database the ORM writes events to.

    Reads go there too, whatever a router says about reads: deciding from a
    replica that lags behind would take a processed event for a new one.
    """
    return connections[router.db_for_write(WebhookEvent)]


# The SQL below is assembled from model metadata only (quoted identifiers and
# column types); every value is a query parameter, hence the `noqa: S608`.


def quote(name: str | None, db: BaseDatabaseWrapper) -> str:
    assert name is not None
    return db.ops.quote_name(name)


def model_field(model: type[ExpressAccount] | type[WebhookEvent], name: str) -> Field[Any, Any]:
    field = model._meta.get_field(name)
    assert isinstance(field, Field)
    return field


def account_column(name: str, db: BaseDatabaseWrapper) -> str:
    """The quoted column of `ExpressAccount`'s field `name`."""
    return quote(model_field(ExpressAccount, name).column, db)


@functools.lru_cache(maxsize=64)
def _update_sql(alias: str, fields: tuple[str, ...], mark_is_null: bool) -> str:
    db = connections[alias]
    meta = ExpressAccount._meta
    sets = ", ".join(f"{account_column(name, db)} = %s" for name in fields)
    mark = account_column("last_event_created", db)
    return (
        f"UPDATE {quote(meta.db_table, db)} SET {sets} "  # noqa: S608
        f"WHERE {quote(meta.pk.column, db)} = %s AND {account_column('updated_at', db)} = %s "
        f"AND {mark} {'IS NULL' if mark_is_null else '= %s'}"
    )


@functools.lru_cache(maxsize=8)
def _insert_sql(alias: str, returning: bool) -> str:
    db = connections[alias]
    meta = WebhookEvent._meta
    columns = ", ".join(quote(f.column, db) for f in EVENT_FIELDS)
    values = ", ".join(["%s"] * len(EVENT_FIELDS))
    sql = f"INSERT INTO {quote(meta.db_table, db)} ({columns}) VALUES ({values})"  # noqa: S608
    return f"{sql} RETURNING {quote(meta.pk.column, db)}" if returning else sql


def insert_if_sql(cte: str, db: BaseDatabaseWrapper) -> str:
    """An INSERT of one event (`event_params`) that happens only if `cte` returned a row."""
    meta = WebhookEvent._meta
    columns = ", ".join(quote(f.column, db) for f in EVENT_FIELDS)
    # Typed, because the values are a SELECT list, not a VALUES row.
    values = ", ".join(f"CAST(%s AS {f.cast_db_type(db)})" for f in EVENT_FIELDS)
    return (
        f"INSERT INTO {quote(meta.db_table, db)} ({columns}) SELECT {values} "  # noqa: S608
        f"WHERE EXISTS (SELECT 1 FROM {cte}) RETURNING {quote(meta.pk.column, db)}"
    )


@functools.lru_cache(maxsize=64)
def _cte_sql(alias: str, fields: tuple[str, ...], mark_is_null: bool) -> str:
    return (
        f"WITH changed AS ({_update_sql(alias, fields, mark_is_null)} RETURNING 1) "
        f"{insert_if_sql('changed', connections[alias])}"
    )


def stamped(account: ExpressAccount, fields: tuple[str, ...]) -> tuple[str, ...]:
    """`fields` and ``updated_at``, which is set to now: every account write says when."""
    account.updated_at = timezone.now()
    return fields if "updated_at" in fields else (*fields, "updated_at")


@functools.lru_cache(maxsize=64)
def _account_fields(names: tuple[str, ...]) -> tuple[Field[Any, Any], ...]:
    return tuple(model_field(ExpressAccount, name) for name in names)


def account_params(
    account: ExpressAccount, fields: tuple[str, ...], db: BaseDatabaseWrapper
) -> list[Any]:
    """`account`'s values of `fields`, as the database takes them."""
    return [f.get_db_prep_save(getattr(account, f.attname), db) for f in _account_fields(fields)]


def time_param(name: str, value: Any, db: BaseDatabaseWrapper) -> Any:
    """A value for `ExpressAccount`'s date-time field `name`, as the database takes it."""
    return model_field(ExpressAccount, name).get_db_prep_value(value, db)


def _update_params(
    account: ExpressAccount,
    fields: tuple[str, ...],
    version: tuple[Any, Any],
    db: BaseDatabaseWrapper,
) -> list[Any]:
    updated_at, mark = version
    params = [*account_params(account, fields, db), account.pk]
    params.append(time_param("updated_at", updated_at, db))
    if mark is not None:
        params.append(time_param("last_event_created", mark, db))
    return params


def event_params(event: WebhookEvent, db: BaseDatabaseWrapper) -> list[Any]:
    return [f.get_db_prep_save(f.pre_save(event, add=True), db) for f in EVENT_FIELDS]


def mark_saved(event: WebhookEvent, pk: Any, db: BaseDatabaseWrapper) -> WebhookEvent:
    event.pk = pk
    event._state.adding = False
    event._state.db = db.alias
    return event


def insert_event(event: WebhookEvent, db: BaseDatabaseWrapper) -> WebhookEvent:
    """INSERT `event`; `AlreadyProcessed` when its ``stripe_id`` is already stored."""
    returning = bool(db.features.can_return_columns_from_insert)
    try:
        with db.cursor() as cursor:
            cursor.execute(_insert_sql(db.alias, returning), event_params(event, db))
            pk = cursor.fetchone()[0] if returning else cursor.lastrowid
    except IntegrityError:
        raise AlreadyProcessed(event.stripe_id) from None
    return mark_saved(event, pk, db)


def update_account(
    account: ExpressAccount,
    fields: tuple[str, ...],
    version: tuple[Any, Any],
    db: BaseDatabaseWrapper,
) -> bool:
    """UPDATE `fields` if the row is still at `version`; whether it was."""
    sql = _update_sql(db.alias, fields, version[1] is None)
    with db.cursor() as cursor:
        cursor.execute(sql, _update_params(account, fields, version, db))
        return bool(cursor.rowcount == 1)


def update_and_insert(
    account: ExpressAccount,
    fields: tuple[str, ...],
    version: tuple[Any, Any],
    event: WebhookEvent,
    db: BaseDatabaseWrapper,
) -> WebhookEvent | None:
    """Write the account (if still at `version`) and record `event`, all or nothing.

    None when the account changed since it was read (nothing written);
    `AlreadyProcessed` when another delivery recorded the event first.
    """
    if db.vendor == "postgresql":
        sql = _cte_sql(db.alias, fields, version[1] is None)
        params = _update_params(account, fields, version, db) + event_params(event, db)
        try:
            with db.cursor() as cursor:
                cursor.execute(sql, params)
                row = cursor.fetchone()
        except IntegrityError:
            raise AlreadyProcessed(event.stripe_id) from None
        return None if row is None else mark_saved(event, row[0], db)
    with transaction.atomic(using=db.alias, savepoint=False):
        if not update_account(account, fields, version, db):
            return None
        return insert_event(event, db)
