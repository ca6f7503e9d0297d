"""Portal pages. Thin: parse the request, call a selector or a service, render. Every object is
looked up through the selectors scoped to the signed-in client, so foreign ids give 404.

One module per part of the portal; `portal.urls` and `portal.channels` import from here."""

from __future__ import annotations

from portal.views.account import (
    PasswordResetCompleteView,
    PasswordResetConfirmView,
    PasswordResetDoneView,
    PasswordResetView,
    PortalLoginView,
    account,
    home,
    link_login,
    link_request,
    logout_all,
    logout_view,
)
from portal.views.booking import book, book_triage, booked, messages_page, notifications_page, notifications_read
from portal.views.common import _page, client_required
from portal.views.data import consents, contact, erasure, export_json, export_page, not_found, privacy, privacy_policy
from portal.views.visits import (
    agreement_detail,
    agreement_list,
    dashboard,
    equipment_detail,
    feedback,
    maintenance_move,
    site_detail,
    visit_cancel,
    visit_card,
    visit_detail,
    visit_list,
    visit_move,
)

__all__ = [
    "PasswordResetCompleteView",
    "PasswordResetConfirmView",
    "PasswordResetDoneView",
    "PasswordResetView",
    "PortalLoginView",
    "_page",
    "account",
    "agreement_detail",
    "agreement_list",
    "book",
    "book_triage",
    "booked",
    "client_required",
    "consents",
    "contact",
    "dashboard",
    "equipment_detail",
    "erasure",
    "export_json",
    "export_page",
    "feedback",
    "home",
    "link_login",
    "link_request",
    "logout_all",
    "logout_view",
    "maintenance_move",
    "messages_page",
    "not_found",
    "notifications_page",
    "notifications_read",
    "privacy",
    "privacy_policy",
    "site_detail",
    "visit_cancel",
    "visit_card",
    "visit_detail",
    "visit_list",
    "visit_move",
]
