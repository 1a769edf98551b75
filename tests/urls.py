from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse
from django.urls import include, path


def dashboard(request: HttpRequest) -> HttpResponse:
    return HttpResponse("dashboard")


urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("dashboard/", dashboard, name="dashboard"),
    path("stripe/", include("django_stripe_express.urls")),
]
