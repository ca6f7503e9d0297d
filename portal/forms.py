"""Input forms of the portal: they parse and show errors by the field; services decide."""

from __future__ import annotations

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from hvaccrm.models import Client, Consent
from hvaccrm.models.clients import Language
from hvaccrm.models.jobs import ServiceType


class EmailAuthenticationForm(AuthenticationForm):
    """Username is the e-mail address; a wrong password gives one error that reveals nothing."""

    error_messages = {
        "invalid_login": _("The e-mail address or password is wrong."),
        "inactive": _("This account is inactive."),
    }

    def __init__(self, request=None, *args, **kwargs):
        super().__init__(request, *args, **kwargs)
        self.fields["username"].label = _("E-mail")
        self.fields["username"].widget.attrs.update({"autocomplete": "username", "inputmode": "email"})

    def clean(self):
        # Portal logins have a pseudonymous username (it ends up in the immutable access trail);
        # clients type their e-mail, which is mapped to that username before authenticating, so
        # django-axes counts failures per account.
        from portal.services import username_for_email

        typed = self.cleaned_data.get("username") or ""
        if "@" in typed:
            self.cleaned_data["username"] = username_for_email(typed) or typed
        return super().clean()


class LinkRequestForm(forms.Form):
    email = forms.EmailField(label=_("E-mail"), widget=forms.EmailInput(attrs={"autocomplete": "email"}))


class BookingForm(forms.Form):
    site = forms.TypedChoiceField(label=_("Site"), coerce=int)
    service_type = forms.ChoiceField(label=_("Service type"), choices=ServiceType.choices)
    equipment = forms.TypedChoiceField(label=_("Unit (optional)"), coerce=int, required=False, empty_value=None)
    description = forms.CharField(label=_("What is the problem?"), max_length=4000, required=False,
                                  widget=forms.Textarea(attrs={"rows": 4}))
    windows = forms.MultipleChoiceField(label=_("Preferred windows (up to three)"), required=False,
                                        widget=forms.CheckboxSelectMultiple)

    def __init__(self, *args, sites=(), windows=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["site"].choices = [(s.pk, s.label or s.address) for s in sites]
        units = [(e.pk, f"{e} - {s.label or s.street}") for s in sites for e in s.equipment.all()]
        self.fields["equipment"].choices = [("", _("not sure / several"))] + units
        # Every window of the period is a valid choice for parsing; closed ones are refused by the service
        # with a message by the field (the page only offers the open ones).
        self.fields["windows"].choices = [(w.key, w.key) for w in windows]


class MoveForm(forms.Form):
    window = forms.ChoiceField(label=_("New window"))

    def __init__(self, *args, windows=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["window"].choices = [(w.key, w.key) for w in windows]


class MaintenanceMoveForm(forms.Form):
    """A day for a planned visit; whether it is in the season and open is the core's rule."""

    day = forms.DateField(label=_("New day"), input_formats=["%Y-%m-%d"])


class FeedbackForm(forms.Form):
    rating = forms.TypedChoiceField(label=_("Your rating"), coerce=int, widget=forms.RadioSelect,
                                    choices=[(i, str(i)) for i in range(1, 6)])
    comment = forms.CharField(label=_("Comment (optional)"), max_length=4000, required=False,
                              widget=forms.Textarea(attrs={"rows": 4}))


class ContactForm(forms.ModelForm):
    class Meta:
        model = Client
        fields = ["name", "email", "phone", "billing_address", "preferred_language"]
        widgets = {"preferred_language": forms.Select(choices=Language.choices)}


class ConsentForm(forms.Form):
    purpose = forms.ChoiceField(choices=Consent.Purpose.choices)
    granted = forms.TypedChoiceField(choices=[("1", _("yes")), ("0", _("no"))], coerce=lambda v: v == "1")


class ErasureForm(forms.Form):
    confirm = forms.BooleanField(label=_("I understand that my account will be closed and my personal data erased."))
    reason = forms.CharField(label=_("Anything you want to tell us (optional)"), max_length=2000, required=False,
                             widget=forms.Textarea(attrs={"rows": 3}))
