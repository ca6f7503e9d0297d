"""The phone booking form (the office's "new job" page)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from hvaccrm.models import Client, Equipment, Site
from hvaccrm.models.jobs import ServiceType, Urgency

HOURS = [(h, f"{h:02d}:00") for h in range(6, 23)]


class PhoneBookingForm(forms.Form):
    client = forms.ModelChoiceField(queryset=Client.objects.order_by("name"), required=False, label=_("client"))
    client_name = forms.CharField(required=False, max_length=200, label=_("new client's name"))
    phone = forms.CharField(required=False, max_length=32, label=_("phone"))
    email = forms.EmailField(required=False, label=_("e-mail"))
    site = forms.ModelChoiceField(queryset=Site.objects.select_related("client"), required=False, label=_("site"))
    street = forms.CharField(required=False, max_length=200, label=_("street and number"))
    postal_code = forms.CharField(required=False, max_length=6, label=_("postal code"))
    latitude = forms.FloatField(required=False, label=_("latitude"))
    longitude = forms.FloatField(required=False, label=_("longitude"))
    equipment = forms.ModelChoiceField(queryset=Equipment.objects.select_related("site"), required=False,
                                       label=_("unit"))
    service_type = forms.ChoiceField(choices=ServiceType.choices, label=_("service type"))
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=4000, label=_("the problem"))
    urgency = forms.ChoiceField(choices=Urgency.choices, required=False, label=_("urgency"))
    day = forms.DateField(label=_("day"), widget=forms.DateInput(attrs={"type": "date"}))
    from_hour = forms.TypedChoiceField(choices=HOURS, coerce=int, initial=8, label=_("from"))
    to_hour = forms.TypedChoiceField(choices=HOURS, coerce=int, initial=12, label=_("until"))
