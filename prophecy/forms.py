from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from hvaccrm.models.jobs import ServiceType


class SearchForm(forms.Form):
    # Long pastes are accepted and cut by the search (it says so) rather than refused.
    q = forms.CharField(label=_("Describe the problem"), max_length=10_000, required=False)
    district = forms.CharField(label=_("District"), max_length=32, required=False)
    service_type = forms.ChoiceField(label=_("Service type"), required=False,
                                     choices=[("", _("any"))] + list(ServiceType.choices))
    created_from = forms.DateField(label=_("From"), required=False)
    created_to = forms.DateField(label=_("To"), required=False)
    vector_only = forms.BooleanField(label=_("Meaning only (no keyword ranking)"), required=False)
