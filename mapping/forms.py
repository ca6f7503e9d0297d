"""Forms of the mapping pages (validation only; the services do the work)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from hvaccrm.models import ServiceJob, Technician
from mapping.services.work import LEAK_RESULTS

LEAK_LABELS = {
    "no_leak": _("no leak found"),
    "leak_found_repaired": _("leak found and repaired"),
    "leak_found_not_repaired": _("leak found, not repaired"),
}


class AssignForm(forms.Form):
    job = forms.ModelChoiceField(queryset=ServiceJob.objects.filter(status__in=["new", "scheduled"]), label=_("job"))
    technician = forms.ModelChoiceField(queryset=Technician.objects.filter(active=True), label=_("technician"))


class PlaceForm(forms.Form):
    """A job dropped on a technician's lane at a time (local, to the minute)."""

    job = forms.ModelChoiceField(queryset=ServiceJob.objects.filter(status__in=["new", "scheduled"]), label=_("job"))
    technician = forms.ModelChoiceField(queryset=Technician.objects.filter(active=True), label=_("technician"))
    start = forms.DateTimeField(label=_("start"), input_formats=["%Y-%m-%dT%H:%M"])


class CompletionForm(forms.Form):
    work_done = forms.CharField(label=_("Work done"), widget=forms.Textarea(attrs={"rows": 3}), max_length=4000)
    leak_check = forms.ChoiceField(label=_("F-gas leak check"), required=False,
                                   choices=[("", "—")] + [(k, LEAK_LABELS[k]) for k in LEAK_RESULTS])
    refrigerant_added_kg = forms.DecimalField(label=_("Refrigerant added (kg)"), required=False, min_value=0,
                                              max_value=1000, decimal_places=2)
    refrigerant_recovered_kg = forms.DecimalField(label=_("Refrigerant recovered (kg)"), required=False, min_value=0,
                                                  max_value=1000, decimal_places=2)
    leak_location = forms.CharField(label=_("Where the leak was"), required=False, max_length=200)
    leak_repair = forms.CharField(label=_("How the leak was repaired"), required=False, max_length=200)
