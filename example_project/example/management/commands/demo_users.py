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
        names = ", ".join(name for name, *_ in DEMO_USERS)
        self.stdout.write(f"Demo users: {names} (support is staff); password 'demo'.")
