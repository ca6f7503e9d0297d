"""Remember each session a user signs in with, so "sign out everywhere" can end them all."""

from __future__ import annotations

from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver


@receiver(user_logged_in, dispatch_uid="portal.session_register")
def _session_register(sender, request, user, **kwargs) -> None:
    from portal.services import session_register

    if request is not None and hasattr(request, "session"):
        if request.session.session_key is None:
            request.session.save()
        session_register(user=user, session_key=request.session.session_key)
