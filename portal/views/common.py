"""What every portal page uses: the page renderer, the signed-in-client guard, form errors."""

from __future__ import annotations

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.utils import timezone

from hvaccrm.errors import ServiceError
from integration import portal as subsystems
from portal import selectors


def _page(request, template: str, context: dict | None = None, status: int = 200):
    """Render a portal page with what the navigation needs (unread notifications)."""
    ctx = {"portal_nav": True, "unread_count": subsystems.notification_unread_count(user=request.user)}
    ctx.update(context or {})
    return render(request, template, ctx, status=status)


def client_required(view):
    """Signed in and linked to a (not erased) client; office staff have the admin, not the portal."""

    @wraps(view)
    @login_required
    def wrapper(request, *args, **kwargs):
        client = selectors.client_for_user(user=request.user)
        if client is None:
            return _page(request, "portal/no_client.html", status=403)
        request.portal_client = client
        return view(request, *args, **kwargs)

    return wrapper


def _form_errors(form, err: ServiceError) -> None:
    for field, errors in (err.fields or {}).items():
        for message in errors:
            form.add_error(field if field in form.fields else None, message)
    if not err.fields:
        form.add_error(None, err.message)


def _days(windows):
    """Group windows by day for the picker (only open ones are offered)."""
    days: dict = {}
    for w in windows:
        if w.open:
            days.setdefault(timezone.localtime(w.start).date(), []).append(w)
    return sorted(days.items())
