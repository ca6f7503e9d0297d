from __future__ import annotations

from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import LoginView
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST


class PortalLoginView(LoginView):
    """E-mail and password sign-in for clients (django-axes counts the failures)."""

    template_name = "portal/login.html"
    redirect_authenticated_user = True


def home(request):
    if not request.user.is_authenticated:
        return PortalLoginView.as_view()(request)
    return _dashboard(request)


@login_required
def _dashboard(request):
    clients = request.user.clients.all()
    return render(request, "portal/home.html", {"clients": clients})


@require_POST
def logout_view(request):
    logout(request)
    return redirect("portal:login")
