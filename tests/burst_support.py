"""Bursts of ``account.updated`` deliveries, for the tests of concurrent webhooks."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from .test_webhooks import T0


@dataclass
class Burst:
    """Each event signed once, in order of making; what each account must end as."""

    signed: list[tuple[str, str]] = field(default_factory=list)  # (payload, header)
    event_ids: list[str] = field(default_factory=list)
    #: account id -> (``created``, email) of its newest event.
    newest: dict[str, tuple[int, str]] = field(default_factory=dict)


def account_histories(fake: Any, accounts: list[Any], rng: random.Random) -> Burst:
    """Eight ``account.updated`` per account, built from the fake's state: each
    with a new email, onboarding finished at the sixth, ``created`` ten seconds
    apart with up to four of jitter (so a later change may carry an earlier time)."""
    burst = Burst()
    for account in accounts:
        acct = account.stripe_id
        fake.create_account(id=acct)
        for step in range(8):
            email = f"{acct}-{step}@example.com"
            fake.update_account(acct, email=email)
            if step == 5:
                fake.complete_onboarding(acct)
            created = T0 + step * 10 + rng.randrange(5)
            event = fake.build_event("account.updated", account=acct, created=created)
            burst.event_ids.append(event["id"])
            burst.newest[acct] = (created, email)
            burst.signed.append(fake.signed(event))
    return burst
