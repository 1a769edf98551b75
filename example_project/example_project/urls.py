from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from example import views

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("stripe-account/", views.stripe_account, name="stripe_account"),
    path("shop/", views.shop, name="shop"),
    path("shop/<slug:slug>/buy/", views.buy, name="buy"),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("demo/users/", views.demo_users, name="demo_users"),
    path("demo/login/", views.demo_login, name="demo_login"),
    path("demo/states/", views.states, name="demo_states"),
    path("admin/", admin.site.urls),
    path("stripe/", include("django_stripe_express.urls")),
]
