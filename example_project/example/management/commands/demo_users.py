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
        "Create the example platform's demo users (password: 'demo'), only in the "
        "offline demo with DEBUG on; elsewhere deactivate them."
    )

    def handle(self, *args: object, **options: object) -> None:
        User = get_user_model()
        # Users whose password is in the README (one a superuser) exist only in
        # the offline demo with DEBUG on: never next to real keys or on a site.
        if not (getattr(settings, "STRIPE_OFFLINE", False) and settings.DEBUG):
            for username, *_rest in DEMO_USERS:
                self._retire(User, username)
            self.stdout.write("No demo users: they exist only offline with DEBUG on.")
            return
        made = []
        for username, first, last, staff in DEMO_USERS:
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
        """Deactivate a demo user that still has the published password."""
        for user in User.objects.filter(username=username, is_active=True):
            if not user.check_password("demo"):
                continue  # someone made it theirs: leave it
            user.is_active = user.is_staff = user.is_superuser = False
            user.set_unusable_password()
            user.save()
            self.stdout.write(
                f"Deactivated the demo user '{username}' (password 'demo'): demo users "
                "exist only offline with DEBUG on."
            )
