"""Portal pages: the client's data (RODO): privacy, contact, export, consents, erasure."""

from __future__ import annotations

import json

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from hvaccrm.errors import ServiceError
from hvaccrm.models import Client, Consent
from hvaccrm.services import access_record
from portal import conf, selectors, services
from portal.forms import (
    ConsentForm,
    ContactForm,
    ErasureForm,
)
from portal.models import ErasureRequest
from portal.views.common import _form_errors, _page, client_required

# --- the client's data (RODO) -------------------------------------------------------------------


@client_required
def privacy(request):
    client = request.portal_client
    return _page(request, "portal/privacy.html", {
        "client": client, "retained": selectors.retained_records(client_id=client.pk),
        "open_request": ErasureRequest.objects.filter(client_id=client.pk, state=ErasureRequest.State.REQUESTED).first(),
    })


@client_required
@require_http_methods(["GET", "POST"])
def contact(request):
    client = request.portal_client
    access_record(actor=request.user, action="view", obj=client, subject_client_id=client.pk,
                  purpose="contact data shown to the client", request=request)
    # The form edits a copy: services.contact_update compares the submitted values with the saved ones.
    form = ContactForm(request.POST or None, instance=Client.objects.get(pk=client.pk))
    if request.method == "POST" and form.is_valid():
        try:
            services.contact_update(user=request.user, client=client, data=form.cleaned_data, request=request)
        except ServiceError as err:
            _form_errors(form, err)
        else:
            messages.success(request, _("Your contact data was saved."))
            return redirect("portal:contact")
    return _page(request, "portal/contact.html", {"form": form}, status=400 if form.errors else 200)


@client_required
def export_json(request):
    data = services.data_export_record(user=request.user, client=request.portal_client, fmt="json", request=request)
    response = HttpResponse(json.dumps(data, ensure_ascii=False, indent=2), content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="my-data-{timezone.localdate():%Y-%m-%d}.json"'
    return response


@client_required
def export_page(request):
    data = services.data_export_record(user=request.user, client=request.portal_client, fmt="page", request=request)
    return _page(request, "portal/export.html", {"data": data,
                                                 "communications_json": json.dumps(data.get("communications") or {},
                                                                                   ensure_ascii=False, indent=2)})


@client_required
@require_http_methods(["GET", "POST"])
def consents(request):
    client = request.portal_client
    if request.method == "POST":
        form = ConsentForm(request.POST)
        if form.is_valid():
            services.consent_set(user=request.user, client=client, purpose=form.cleaned_data["purpose"],
                                 granted=form.cleaned_data["granted"], request=request)
            messages.success(request, _("Your choice was saved."))
            return redirect("portal:consents")
        return _page(request, "portal/consents.html", _consent_context(client, form), status=400)
    return _page(request, "portal/consents.html", _consent_context(client, None))


def _consent_context(client, form):
    state = selectors.consent_state(client=client)
    rows = [{"purpose": value, "label": label, "entry": state.get(value)} for value, label in Consent.Purpose.choices]
    return {"rows": rows, "history": selectors.consent_history(client=client), "form": form,
            "version": conf.CONSENT_TEXT_VERSION}


@client_required
@require_http_methods(["GET", "POST"])
def erasure(request):
    client = request.portal_client
    form = ErasureForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.erasure_request_create(user=request.user, client=client, reason=form.cleaned_data["reason"])
        messages.success(request, _("Your request was received. The office will carry it out and confirm by e-mail."))
        return redirect("portal:privacy")
    return _page(request, "portal/erasure.html", {"form": form, "retained": selectors.retained_records(client_id=client.pk)})


def privacy_policy(request):
    """The public part: what is kept after an erasure, why and for how long (no personal data)."""
    return _page(request, "portal/retention.html", {"retained": selectors.retained_records()})


def not_found(request):
    raise Http404
