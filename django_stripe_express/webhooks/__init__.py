"""Stripe webhooks: one short path per delivery.

`receive.webhook_response` (the view's body, served as ``webhook`` and
``thin_webhook``: the body's size, then `receive.verify_signature`) ->
`rules.parse_event` (the one place that knows payload families: snapshot
events and thin event notifications) -> `store.process_event`: in one
transaction the account read locked, `rules` deciding in Python, the account
saved and the event's row written; or first the account fetched from Stripe
for events applied with Stripe's data (thin events, ``WEBHOOK_REFETCH_ACCOUNT``:
the fetch outside any transaction) -> signals after commit. With
``WEBHOOK_PROCESSING = "task"``, `store.queue_event` records the event and
`tasks.process_webhook_event` applies it later through `store.process_event`.

Tests and host code can call `receive.handle_delivery` / `store.process_event`
directly.
"""
