"""The staff page "Sent e-mails": what the development file backend kept, for staff only."""

from __future__ import annotations

import time

import pytest
from django.core.mail import EmailMultiAlternatives, send_mail
from django.urls import reverse
from django.utils import translation

from hvaccrm import views
from hvaccrm.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def kept_mail(settings, tmp_path):
    settings.EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    settings.EMAIL_FILE_PATH = str(tmp_path)
    return tmp_path


def test_an_anonymous_visitor_is_sent_to_the_admin_login(client, kept_mail):
    response = client.get(reverse("sent-emails"))
    assert response.status_code == 302 and reverse("admin:login") in response["Location"]


def test_a_client_who_is_not_staff_cannot_read_the_sent_emails(client, client_anna, kept_mail):
    send_mail("Twój link logowania", "sekret", None, ["anna@example.com"])
    client.force_login(client_anna.users.get())
    for url in (reverse("sent-emails"), reverse("sent-email", args=["x.0"])):
        response = client.get(url)
        assert response.status_code == 302 and reverse("admin:login") in response["Location"]


def test_staff_see_the_kept_emails_newest_first_a_page_at_a_time(client, dispatcher, kept_mail, monkeypatch):
    monkeypatch.setattr(views, "SENT_MAIL_PAGE_SIZE", 2)
    for n in range(3):
        send_mail(f"Subject {n}", f"Body {n}", None, [f"client{n}@example.com"])
        # The list is ordered by file time, which the kernel stamps in ticks of a few ms: e-mails
        # written in the same tick have no order to show (a CI run wrote two in one).
        time.sleep(0.05)
    client.force_login(dispatcher)
    pages = [client.get(reverse("sent-emails"), {"page": n}).context["page"] for n in (1, 2)]
    assert len(pages[0].object_list) == 2 and pages[0].has_next()
    # Only this test's e-mails are compared: a CI run once showed a page without one of them, so an
    # e-mail of something else (sent while the test ran) may share the folder; it must not break the order.
    shown = [m.subject for page in pages for m in page.object_list if m.subject.startswith("Subject ")]
    assert shown == ["Subject 2", "Subject 1", "Subject 0"]


def test_staff_open_one_email_with_its_text_and_html(client, dispatcher, kept_mail):
    message = EmailMultiAlternatives("Wizyta potwierdzona", "Dzień dobry, do zobaczenia.", None, ["ola@example.com"])
    message.attach_alternative("<p>Dzień <b>dobry</b></p>", "text/html")
    message.send()
    client.force_login(dispatcher)
    listing = client.get(reverse("sent-emails")).context["page"].object_list
    page = client.get(reverse("sent-email", args=[listing[0].key])).content.decode()
    assert "Wizyta potwierdzona" in page and "Dzień dobry, do zobaczenia." in page and "ola@example.com" in page
    assert "<iframe sandbox " in page and 'srcdoc="&lt;p&gt;Dzień &lt;b&gt;dobry' in page  # escaped, no scripts


def test_an_unknown_or_malformed_email_key_is_not_found(client, dispatcher, kept_mail):
    client.force_login(dispatcher)
    for key in ("20260101-000000-1.0", "..%2F..%2Fetc%2Fpasswd.0", "nothing"):
        assert client.get(f"/admin/sent-emails/{key}/").status_code == 404


def test_the_admin_user_tools_link_to_the_page_and_it_speaks_polish(client, kept_mail):
    staff = UserFactory(username="biuro", role="dispatcher", is_staff=True)
    client.force_login(staff)
    with translation.override("pl"):
        page = client.get(reverse("admin:index"), HTTP_ACCEPT_LANGUAGE="pl").content.decode()
        listing = client.get(reverse("sent-emails"), HTTP_ACCEPT_LANGUAGE="pl").content.decode()
    assert 'id="sent-emails-link"' in page and "Wysłane e-maile" in listing and "Brak e-maili." in listing
