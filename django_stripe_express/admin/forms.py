"""The reassignment form: the new user (a raw id lookup, for any size of user
table) and the reason, checked against the one-account-per-mode rule before
the confirmation page, and again when it is applied."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.admin.sites import AdminSite
from django.contrib.admin.widgets import ForeignKeyRawIdWidget
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from ..models import ExpressAccount
from ..reassign import refusal


class ReassignForm(forms.Form):
    user = forms.ModelChoiceField(queryset=get_user_model()._default_manager.none(),
                                  label=_("New user"))
    reason = forms.CharField(
        label=_("Reason"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text=_("Why the account changes hands (e.g. the support ticket). It is kept "
                    "with the account's history."),
    )

    def __init__(self, account: ExpressAccount, admin_site: AdminSite, *args: Any,
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.account = account
        field: Any = self.fields["user"]
        field.queryset = get_user_model()._default_manager.all()
        field.widget = ForeignKeyRawIdWidget(
            ExpressAccount._meta.get_field("user").remote_field, admin_site
        )

    def clean_user(self) -> Any:
        user = self.cleaned_data["user"]
        why_not = refusal(self.account, user)
        if why_not:
            raise forms.ValidationError(why_not, code="refused")
        return user
