"""Portal pages, mounted at /portal/ (see the report and docs/portal.md for what each does)."""

from __future__ import annotations

from django.urls import path

from portal import channels, views

app_name = "portal"
urlpatterns = [
    path("", views.home, name="home"),
    # access
    path("login/", views.PortalLoginView.as_view(), name="login"),
    path("login/link/", views.link_request, name="link_request"),
    path("login/link/<str:token>/", views.link_login, name="link_login"),
    path("logout/", views.logout_view, name="logout"),
    path("logout/all/", views.logout_all, name="logout_all"),
    path("account/", views.account, name="account"),
    path("account/channels/", channels.channels, name="channels"),
    path("password/reset/", views.PasswordResetView.as_view(), name="password_reset"),
    path("password/reset/sent/", views.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path("password/reset/<uidb64>/<token>/", views.PasswordResetConfirmView.as_view(), name="password_reset_confirm"),
    path("password/reset/done/", views.PasswordResetCompleteView.as_view(), name="password_reset_complete"),
    # what the client has
    path("sites/<int:site_id>/", views.site_detail, name="site"),
    path("equipment/<int:equipment_id>/", views.equipment_detail, name="equipment"),
    path("visits/", views.visit_list, name="visits"),
    path("visits/<int:job_id>/", views.visit_detail, name="visit"),
    path("visits/<int:job_id>/card.json", views.visit_card, name="visit_card"),
    path("visits/<int:job_id>/cancel/", views.visit_cancel, name="visit_cancel"),
    path("visits/<int:job_id>/move/", views.visit_move, name="visit_move"),
    path("visits/<int:job_id>/feedback/", views.feedback, name="feedback"),
    path("agreements/", views.agreement_list, name="agreements"),
    path("agreements/<int:agreement_id>/", views.agreement_detail, name="agreement"),
    path("maintenance/move/<str:token>/", views.maintenance_move, name="maintenance_move"),
    path("book/", views.book, name="book"),
    path("book/triage/", views.book_triage, name="book_triage"),
    path("book/<int:job_id>/done/", views.booked, name="booked"),
    # talking to the office
    path("messages/", views.messages_page, name="messages"),
    path("notifications/", views.notifications_page, name="notifications"),
    path("notifications/read/", views.notifications_read, name="notifications_read"),
    # the client's data (RODO)
    path("privacy/", views.privacy, name="privacy"),
    path("privacy/contact/", views.contact, name="contact"),
    path("privacy/export/", views.export_page, name="export"),
    path("privacy/export.json", views.export_json, name="export_json"),
    path("privacy/consents/", views.consents, name="consents"),
    path("privacy/erasure/", views.erasure, name="erasure"),
    path("privacy/retention/", views.privacy_policy, name="retention"),
]
