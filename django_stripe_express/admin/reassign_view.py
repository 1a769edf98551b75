"""The admin's "Reassign to another user": a form, a confirmation naming both
users, then `reassign.reassign_account` (record, signal) and an entry in the
account's admin history."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext as _

from ..reassign import ReassignError, can_reassign, describe, reassign_account
from .forms import ReassignForm

TEMPLATES = "admin/django_stripe_express/expressaccount/"
FORM_TEMPLATE = TEMPLATES + "reassign.html"
CONFIRMATION_TEMPLATE = TEMPLATES + "reassign_confirmation.html"


def reassign_view(modeladmin: Any, request: HttpRequest, object_id: str) -> HttpResponse:
    if not can_reassign(request.user):
        raise PermissionDenied
    account = modeladmin.get_object(request, unquote(object_id))
    if account is None:
        raise Http404(_("No such Express account."))
    posted = request.method == "POST"
    form = ReassignForm(account, modeladmin.admin_site, request.POST if posted else None)
    template = FORM_TEMPLATE
    if posted and form.is_valid():
        new_user, reason = form.cleaned_data["user"], form.cleaned_data["reason"]
        if request.POST.get("confirm") != "yes":
            template = CONFIRMATION_TEMPLATE
        else:
            previous = describe(account.user)
            try:
                reassign_account(account, new_user, by=request.user, reason=reason,
                                 request=request)
            except ReassignError as exc:
                form.add_error(None, str(exc))
            else:
                text = _("Reassigned from %(old)s to %(new)s. Reason: %(reason)s") % {
                    "old": previous, "new": describe(new_user), "reason": reason,
                }
                modeladmin.log_change(request, account, text)
                modeladmin.message_user(request, text, messages.SUCCESS)
                opts = modeladmin.model._meta
                return HttpResponseRedirect(reverse(
                    f"{modeladmin.admin_site.name}:{opts.app_label}_{opts.model_name}_change",
                    args=[account.pk],
                ))
    context = {
        **modeladmin.admin_site.each_context(request),
        "title": _("Reassign %(account)s to another user") % {"account": account.stripe_id},
        "opts": modeladmin.model._meta,
        "original": account,
        "account": account,
        "form": form,
        "current_user": describe(account.user),
        "new_user": describe(form.cleaned_data["user"]) if form.is_bound and form.is_valid()
        else "",
        "media": modeladmin.media + form.media,
    }
    request.current_app = modeladmin.admin_site.name
    return TemplateResponse(request, template, context)
