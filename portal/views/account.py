"""Portal pages: signing in (password or e-mailed link), signing out, the account and the
password reset."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import PasswordChangeForm, SetPasswordForm
from django.shortcuts import redirect
from django.urls import reverse, reverse_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from portal import conf, services
from portal.forms import (
    EmailAuthenticationForm,
    LinkRequestForm,
)
from portal.views.common import _page, client_required
from portal.views.visits import dashboard

# --- access -------------------------------------------------------------------------------------


class PortalLoginView(auth_views.LoginView):
    """E-mail and password sign-in (django-axes counts the failures and locks the account)."""

    template_name = "portal/login.html"
    authentication_form = EmailAuthenticationForm
    redirect_authenticated_user = True

    def get_default_redirect_url(self):
        return reverse("portal:home")


def home(request):
    if not request.user.is_authenticated:
        return redirect("portal:login")
    return dashboard(request)


@require_http_methods(["GET", "POST"])
def link_request(request):
    form = LinkRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.login_link_request(email=form.cleaned_data["email"], ip_address=request.META.get("REMOTE_ADDR"))
        return _page(request, "portal/link_sent.html", {"minutes": conf.LOGIN_LINK_MINUTES})
    return _page(request, "portal/link_request.html", {"form": form})


@require_http_methods(["GET", "POST"])
def link_login(request, token: str):
    """GET shows a button (mail scanners that prefetch links must not use them up); POST signs in."""
    if request.method == "GET":
        user = services.login_link_peek(token=token)
        if user is None:
            return _page(request, "portal/link_invalid.html", status=410)
        return _page(request, "portal/link_confirm.html", {"account": user.email or user.get_username()})
    pending = services.login_link_peek(token=token)
    if pending is not None and _axes_locked(request, pending):
        # A locked account stays locked for links too (django-axes guards every way in).
        return _page(request, "portal/locked.html", status=429)
    user = services.login_link_redeem(token=token)
    if user is None:
        return _page(request, "portal/link_invalid.html", status=410)
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    if not user.has_usable_password():
        messages.info(request, _("You are signed in. You can set a password for next time on the account page."))
    return redirect("portal:home")


def _axes_locked(request, user) -> bool:
    from axes.handlers.proxy import AxesProxyHandler

    return AxesProxyHandler.is_locked(request, credentials={"username": user.get_username()})


@require_POST
def logout_view(request):
    logout(request)
    messages.info(request, _("You are signed out."))
    return redirect("portal:login")


@require_POST
@login_required
def logout_all(request):
    services.session_end_all(user=request.user)
    logout(request)
    messages.info(request, _("You are signed out on all devices."))
    return redirect("portal:login")


@client_required
@require_http_methods(["GET", "POST"])
def account(request):
    form_class = PasswordChangeForm if request.user.has_usable_password() else SetPasswordForm
    form = form_class(request.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        form.save()
        from django.contrib.auth import update_session_auth_hash

        update_session_auth_hash(request, request.user)
        messages.success(request, _("Your password was saved."))
        return redirect("portal:account")
    return _page(request, "portal/account.html", {"form": form})


class PasswordResetView(auth_views.PasswordResetView):
    template_name = "portal/password_reset.html"
    email_template_name = "portal/email/password_reset.txt"
    subject_template_name = "portal/email/password_reset_subject.txt"
    success_url = reverse_lazy("portal:password_reset_done")


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "portal/password_reset_done.html"


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "portal/password_reset_confirm.html"
    success_url = reverse_lazy("portal:password_reset_complete")


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "portal/password_reset_complete.html"
