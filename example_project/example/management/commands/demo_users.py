from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

DEMO_USERS = [
    ("alice", "Alice", "Martin", False),
    ("bob", "Bob", "Okafor", False),
    ("support", "Sam", "Support", True),
]


class Command(BaseCommand):
    help = "Create the example platform's demo users (password: 'demo')."

    def handle(self, *args: object, **options: object) -> None:
        User = get_user_model()
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
        self.stdout.write("Demo users: alice, bob, support (staff); password 'demo'.")
