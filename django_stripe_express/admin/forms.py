"""The account change form: only the user is editable, and it must stay unique.

`livemode` is read-only, so the model form skips the (user, livemode)
constraint; without this check a clash would be an IntegrityError (a 500).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from ..models import ExpressAccount


class ExpressAccountForm(forms.ModelForm):
    class Meta:
        model = ExpressAccount
        fields = ("user",)

    def clean_user(self) -> Any:
        user = self.cleaned_data["user"]
        clash = ExpressAccount.objects.filter(user=user, livemode=self.instance.livemode)
        if clash.exclude(pk=self.instance.pk).exists():
            raise forms.ValidationError(
                _("This user already has an Express account in this mode."), code="unique"
            )
        return user
