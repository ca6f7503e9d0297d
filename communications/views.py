"""The office inbox: staff pages in the admin's look; real time comes from static/communications/inbox.js."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.contrib.auth.decorators import permission_required
from django.core.paginator import Paginator
from django.db.models import Q
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from communications import selectors, services
from hvaccrm.admin_context import admin_page_context
from hvaccrm.errors import ServiceError
from hvaccrm.models.jobs import Urgency


class ReplyForm(forms.Form):
    body = forms.CharField(label=_("Reply"), max_length=services.MAX_BODY,
                           widget=forms.Textarea(attrs={"rows": 3, "placeholder": _("Write a reply…")}))


class UrgencyCorrectionForm(forms.Form):
    message = forms.IntegerField(widget=forms.HiddenInput)
    urgency = forms.ChoiceField(label=_("Urgency"), choices=Urgency.choices)
    reason = forms.CharField(label=_("Why"), max_length=500, required=False)


def _context(request, **extra) -> dict:
    return {**admin_page_context(request), **extra}


@staff_member_required
@permission_required("communications.view_conversation", raise_exception=True)
def inbox(request):
    # The rows show the client's name, not the job: its columns are not loaded (issue 21's CPU per page).
    qs = (selectors.conversation_list_with_unread(user=request.user).select_related(None).select_related("client")
          .order_by("-last_message_at", "-id"))
    query = request.GET.get("q", "").strip()
    if query:
        qs = qs.filter(Q(subject__icontains=query) | Q(client__name__icontains=query))
    if request.GET.get("unread") == "1":
        qs = qs.filter(unread__gt=0)
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    return render(request, "communications/inbox.html", _context(
        request, title=_("Office inbox"), page=page, query=query, alerts=selectors.alert_list_open()[:10],
        chains=[{"alert": a, "chain": services.alert_chain(a)} for a in selectors.alert_list_recent()[:10]]))


@staff_member_required
@permission_required("communications.view_conversation", raise_exception=True)
@require_http_methods(["GET", "POST"])
def conversation(request, pk: int):
    conv = get_object_or_404(selectors.conversation_list_visible(user=request.user), pk=pk)
    form = ReplyForm(request.POST or None)
    if request.method == "POST":
        if request.POST.get("action") == "read":
            for message_id in conv.messages.exclude(reads__user=request.user).values_list("pk", flat=True):
                services.message_read(user=request.user, message_id=message_id)
            return redirect("communications:conversation", pk=conv.pk)
        if request.POST.get("action") == "correct":
            return _urgency_correct(request, conv)
        if form.is_valid():
            try:
                services.message_send(author=request.user, conversation_id=conv.pk, body=form.cleaned_data["body"])
            except ServiceError as exc:
                for field, errors in exc.fields.items():
                    for error in errors:
                        form.add_error(field if field in form.fields else None, error)
                messages.error(request, exc.message)
            else:
                return redirect("communications:conversation", pk=conv.pk)
    thread = conv.messages.select_related("author", "district").order_by("id")
    return render(request, "communications/conversation.html", _context(
        request, title=str(conv), conversation=conv, thread=thread, form=form, urgencies=Urgency.choices))


def _urgency_correct(request, conv):
    """The office relabels a message's urgency (a training example for the triage classifier)."""
    form = UrgencyCorrectionForm(request.POST)
    message = conv.messages.filter(pk=form.cleaned_data["message"]).first() if form.is_valid() else None
    if message is None:
        messages.error(request, _("Choose a message and an urgency."))
    else:
        try:
            services.message_urgency_correct(message=message, urgency=form.cleaned_data["urgency"], actor=request.user,
                                             reason=form.cleaned_data["reason"])
        except ServiceError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Urgency corrected: the classifier will learn from it at its next training."))
    return redirect("communications:conversation", pk=conv.pk)
