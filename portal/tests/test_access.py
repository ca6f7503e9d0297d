"""Access: invitations, passwordless links (single use, expiring, bound), passwords, lockout, sessions."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.contrib.sessions.models import Session
from django.core import mail
from django.test import Client as HttpClient
from django.urls import reverse
from django.utils import timezone

from hvaccrm.models import AccessRecord
from portal import services
from portal.models import LoginLink
from portal.tests.factories import ClientFactory

pytestmark = pytest.mark.django_db


def _token_from_mail(message) -> str:
    match = re.search(r"/portal/login/link/([A-Za-z0-9_\-]+)/", message.body)
    assert match, message.body
    return match.group(1)


def test_staff_invite_creates_a_login_linked_to_the_client_and_emails_a_link(client_anna, dispatcher, django_capture_on_commit_callbacks):
    newcomer = ClientFactory(name="Celina Zięba", email="Celina@Example.com", preferred_language="en")
    with django_capture_on_commit_callbacks(execute=True):
        user = services.client_invite(client=newcomer, actor=dispatcher)
    assert user.username.startswith("client-") and user.email == "celina@example.com"
    assert not user.has_usable_password()
    assert list(newcomer.users.all()) == [user]
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["celina@example.com"]
    assert "client portal" in mail.outbox[0].subject  # the client's language (English)
    link = LoginLink.objects.get(user=user)
    assert link.purpose == "invite" and len(link.token_hash) == 64
    assert _token_from_mail(mail.outbox[0]) not in link.token_hash  # only the hash is stored
    assert AccessRecord.objects.filter(subject_client_id=newcomer.pk, action="create").exists()


def test_the_admin_invite_action_sends_the_invitation(administrator, client_anna, django_capture_on_commit_callbacks):
    http = HttpClient()
    http.force_login(administrator)
    with django_capture_on_commit_callbacks(execute=True):
        response = http.post(reverse("admin:hvaccrm_client_changelist"),
                             {"action": "invite_to_portal", "_selected_action": [client_anna.pk]})
    assert response.status_code == 302
    assert mail.outbox and mail.outbox[0].to == ["anna@example.com"]


def test_a_login_link_works_once_then_never(anna_user, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        assert services.login_link_request(email="ANNA@example.com") is True
    token = _token_from_mail(mail.outbox[0])
    url = reverse("portal:link_login", args=[token])
    http = HttpClient()
    assert http.get(url).status_code == 200  # a mail scanner's GET does not use the link up
    response = http.post(url)
    assert response.status_code == 302 and response.url == reverse("portal:home")
    assert http.get(reverse("portal:home")).status_code == 200
    other = HttpClient()
    assert other.post(url).status_code == 410
    assert other.get(url).status_code == 410
    assert other.get(reverse("portal:home")).status_code == 302  # still signed out


def test_an_expired_login_link_is_refused(anna_user):
    link, token = services.login_link_create(user=anna_user)
    LoginLink.objects.filter(pk=link.pk).update(created_at=timezone.now() - timedelta(minutes=20),
                                                expires_at=timezone.now() - timedelta(minutes=5))
    http = HttpClient()
    assert http.post(reverse("portal:link_login", args=[token])).status_code == 410
    assert "_auth_user_id" not in http.session


def test_a_login_link_expires_after_fifteen_minutes_and_signs_in_only_its_own_account(anna_user, bartek_user):
    link, token = services.login_link_create(user=anna_user)
    assert timedelta(minutes=14) < link.expires_at - link.created_at <= timedelta(minutes=15)
    http = HttpClient()
    http.post(reverse("portal:link_login", args=[token]))
    assert int(http.session["_auth_user_id"]) == anna_user.pk
    assert services.login_link_redeem(token=token + "x") is None


def test_asking_for_a_link_does_not_reveal_who_is_a_client(db):
    response = HttpClient().post(reverse("portal:link_request"), {"email": "nobody@example.com"})
    assert response.status_code == 200 and not mail.outbox


def test_link_requests_are_rate_limited(anna_user, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        sent = [services.login_link_request(email="anna@example.com") for _ in range(7)]
    assert sent.count(True) == 5 and len(mail.outbox) == 5


def test_password_login_with_a_wrong_password_shows_an_error(anna_user):
    response = HttpClient().post(reverse("portal:login"), {"username": "anna@example.com", "password": "wrong-one"})
    assert response.status_code == 200
    assert response.context["form"].non_field_errors()


def test_an_invited_client_signs_in_with_their_e_mail_although_the_username_is_a_pseudonym(client_anna, dispatcher):
    newcomer = ClientFactory(name="Celina Zięba", email="celina@example.com")
    user = services.client_invite(client=newcomer, actor=dispatcher)
    user.set_password("Haslo-Celiny-2026")
    user.save()
    http = HttpClient()
    response = http.post(reverse("portal:login"), {"username": "Celina@example.com", "password": "Haslo-Celiny-2026"})
    assert response.status_code == 302 and int(http.session["_auth_user_id"]) == user.pk


def test_password_login_works(anna_user):
    http = HttpClient()
    response = http.post(reverse("portal:login"), {"username": "anna@example.com", "password": "Correct-Horse-42"})
    assert response.status_code == 302
    assert http.get(reverse("portal:home")).status_code == 200


def test_repeated_wrong_passwords_lock_the_account(anna_user, settings):
    http = HttpClient()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        http.post(reverse("portal:login"), {"username": "anna@example.com", "password": "wrong-one"})
    response = http.post(reverse("portal:login"), {"username": "anna@example.com", "password": "Correct-Horse-42"})
    assert response.status_code == 429  # locked even with the right password
    assert "_auth_user_id" not in http.session


def test_a_locked_account_cannot_get_in_through_the_password_reset_form_either(anna_user, settings):
    http = HttpClient()
    for _ in range(settings.AXES_FAILURE_LIMIT + 1):
        http.post(reverse("portal:login"), {"username": "anna@example.com", "password": "wrong-one"})
    # reset still only sends an e-mail; it does not sign anyone in
    response = http.post(reverse("portal:password_reset"), {"email": "anna@example.com"})
    assert response.status_code == 302 and "_auth_user_id" not in http.session


def test_password_reset_sends_a_portal_link_that_sets_a_validated_password(anna_user):
    http = HttpClient()
    http.post(reverse("portal:password_reset"), {"email": "anna@example.com"})
    assert len(mail.outbox) == 1
    match = re.search(r"(/portal/password/reset/[^/\s]+/[^/\s]+/)", mail.outbox[0].body)
    assert match
    response = http.get(match.group(1), follow=True)
    form_url = response.redirect_chain[-1][0]
    weak = http.post(form_url, {"new_password1": "12345", "new_password2": "12345"})
    assert weak.status_code == 200 and weak.context["form"].errors  # Django's validators apply
    ok = http.post(form_url, {"new_password1": "Nowe-Haslo-2026!", "new_password2": "Nowe-Haslo-2026!"})
    assert ok.status_code == 302
    anna_user.refresh_from_db()
    assert anna_user.check_password("Nowe-Haslo-2026!")


def test_setting_a_password_after_a_link_sign_in_uses_djangos_validators(anna_user):
    anna_user.set_unusable_password()
    anna_user.save()
    http = HttpClient()
    http.force_login(anna_user)
    weak = http.post(reverse("portal:account"), {"new_password1": "anna", "new_password2": "anna"})
    assert weak.status_code == 200 and weak.context["form"].errors
    ok = http.post(reverse("portal:account"), {"new_password1": "Mocne-Haslo-77", "new_password2": "Mocne-Haslo-77"})
    assert ok.status_code == 302
    anna_user.refresh_from_db()
    assert anna_user.check_password("Mocne-Haslo-77")


def test_sign_out_everywhere_ends_every_session_of_the_user(anna_user, bartek_user):
    phone, laptop, bartek = HttpClient(), HttpClient(), HttpClient()
    for http, user in ((phone, anna_user), (laptop, anna_user), (bartek, bartek_user)):
        http.post(reverse("portal:login"), {"username": user.username, "password": "Correct-Horse-42"})
    assert phone.get(reverse("portal:home")).status_code == 200
    response = laptop.post(reverse("portal:logout_all"))
    assert response.status_code == 302
    assert phone.get(reverse("portal:home")).status_code == 302
    assert laptop.get(reverse("portal:home")).status_code == 302
    assert bartek.get(reverse("portal:home")).status_code == 200  # other users are not touched
    assert Session.objects.count() == 1


def test_logout_needs_a_post_with_csrf(anna_user):
    http = HttpClient(enforce_csrf_checks=True)
    http.force_login(anna_user)
    assert http.get(reverse("portal:logout")).status_code == 405
    assert http.post(reverse("portal:logout")).status_code == 403  # no CSRF token
    assert http.get(reverse("portal:home")).status_code == 200


def test_a_staff_account_without_a_client_gets_no_portal_data(dispatcher):
    http = HttpClient()
    http.force_login(dispatcher)
    assert http.get(reverse("portal:home")).status_code == 403


def test_a_locked_account_cannot_sign_in_with_a_link_either(anna_user, settings):
    http = HttpClient()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        http.post(reverse("portal:login"), {"username": "anna@example.com", "password": "wrong-one"})
    _, token = services.login_link_create(user=anna_user)
    assert http.post(reverse("portal:link_login", args=[token])).status_code == 429
    assert "_auth_user_id" not in http.session
    assert LoginLink.objects.get(user=anna_user).used_at is None
