from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

# username, first name, last name, staff; every password is "demo".
DEMO_USERS = [
    ("alice", "Alice", "Martin", False),
    ("bob", "Bob", "Okafor", False),
    ("carol", "Carol", "Nguyen", False),
    ("support", "Sam", "Support", True),
]


class Command(BaseCommand):
    help = (
        "Create the example platform's demo users (password: 'demo'). The staff "
        "user 'support' (a superuser) exists only in the offline demo."
    )

    def handle(self, *args: object, **options: object) -> None:
        User = get_user_model()
        # A superuser whose password is in the README must never sit next to a
        # real Stripe account.
        offline = getattr(settings, "STRIPE_OFFLINE", False)
        made = []
        for username, first, last, staff in DEMO_USERS:
            if staff and not offline:
                self._retire(User, username)
                continue
            user, created = User.objects.get_or_create(
                username=username,
                defaults={"first_name": first, "last_name": last,
                          "email": f"{username}@example.com",
                          "is_staff": staff, "is_superuser": staff},
            )
            if created:
                user.set_password("demo")
                user.save()
            made.append(username + (" (staff)" if staff else ""))
        self.stdout.write(f"Demo users: {', '.join(made)}; password 'demo'.")

    def _retire(self, User: Any, username: str) -> None:
        retired = User.objects.filter(username=username, is_active=True).update(
            is_active=False, is_staff=False, is_superuser=False
        )
        if retired:
            self.stdout.write(
                f"Deactivated the offline demo's staff user '{username}': "
                "Stripe is not the fake here."
            )
