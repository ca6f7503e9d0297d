"""Learning from the office: staff correct a message's urgency; the correction is labelled data that
is exported, erased and trained on (never a text of the frozen test split)."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.urls import reverse

from communications import privacy, selectors, services
from communications.classifier import corpus, train
from communications.models import TriageCorrection
from communications.tests.factories import ConversationFactory, MessageFactory
from hvaccrm.errors import ServiceError
from hvaccrm.models import AccessRecord
from hvaccrm.privacy import ERASED
from hvaccrm.privacy_core import erasure_context

pytestmark = pytest.mark.django_db


@pytest.fixture
def anna_message(client_anna):
    return MessageFactory(conversation=ConversationFactory(client=client_anna),
                          body="Klimatyzacja w serwerowni padła, 35 stopni i rośnie", urgency="high")


def test_the_office_corrects_a_messages_urgency_and_the_correction_is_kept_as_labelled_data(anna_message, dispatcher):
    correction = services.message_urgency_correct(message=anna_message, urgency="emergency", actor=dispatcher,
                                                  reason="server room overheating")
    anna_message.refresh_from_db()
    assert anna_message.urgency == "emergency"
    assert (correction.text, correction.language, correction.urgency_before, correction.urgency, correction.actor) == (
        anna_message.body, "pl", "high", "emergency", dispatcher)
    assert AccessRecord.objects.filter(actor=dispatcher, action="change", object_id=str(anna_message.pk)).exists()


@pytest.mark.parametrize("who", ["anna_user", "technician"])
def test_a_client_or_a_technician_cannot_correct_an_urgency(anna_message, anna_user, technician_mokotow, who):
    actor = anna_user if who == "anna_user" else technician_mokotow.user
    with pytest.raises(ServiceError) as refused:
        services.message_urgency_correct(message=anna_message, urgency="emergency", actor=actor, reason="")
    assert refused.value.status_code == 403
    anna_message.refresh_from_db()
    assert anna_message.urgency == "high" and not TriageCorrection.objects.exists()


def test_an_unknown_urgency_is_refused(anna_message, dispatcher):
    with pytest.raises(ServiceError):
        services.message_urgency_correct(message=anna_message, urgency="apocalyptic", actor=dispatcher, reason="")


def test_the_inbox_corrects_an_urgency(anna_message, dispatcher, client):
    client.force_login(dispatcher)
    url = reverse("communications:conversation", args=[anna_message.conversation_id])
    assert 'name="urgency"' in client.get(url).content.decode()
    response = client.post(url, {"action": "correct", "message": anna_message.pk, "urgency": "emergency",
                                 "reason": "serwery"})
    assert response.status_code == 302
    assert TriageCorrection.objects.get().reason == "serwery"


def test_the_message_admin_corrects_urgencies_by_action(anna_message, administrator, client):
    client.force_login(administrator)
    response = client.post(reverse("admin:communications_message_changelist"),
                           {"action": "correct_to_emergency", "_selected_action": [anna_message.pk]})
    assert response.status_code == 302
    assert TriageCorrection.objects.get().urgency == "emergency"


def test_the_clients_export_holds_the_corrections_of_their_messages(anna_message, dispatcher, client_anna):
    services.message_urgency_correct(message=anna_message, urgency="emergency", actor=dispatcher, reason="")
    exported = privacy.export(client=client_anna)["triage_corrections"]
    assert [(c["text"], c["urgency"]) for c in exported] == [(anna_message.body, "emergency")]


def test_erasure_removes_the_clients_words_from_the_corrections_and_training_leaves_them_out(
        anna_message, dispatcher, administrator, client_anna):
    services.message_urgency_correct(message=anna_message, urgency="emergency", actor=dispatcher,
                                     reason="quoting: " + anna_message.body)
    privacy.erase(client=client_anna, context=erasure_context(client=client_anna, actor=administrator))
    correction = TriageCorrection.objects.get()
    assert (correction.text, correction.reason, correction.urgency) == (ERASED, "", "emergency")
    assert selectors.triage_correction_examples() == []


def test_training_uses_the_newest_correction_of_each_message_but_never_a_frozen_test_text(dispatcher, client_anna):
    frozen = corpus.read(corpus.TEST_FILE)[0]
    conversation = ConversationFactory(client=client_anna)
    mine = MessageFactory(conversation=conversation, body="Serwerownia 38 stopni, klima stoi")
    leaked = MessageFactory(conversation=conversation, body=frozen.text)
    services.message_urgency_correct(message=mine, urgency="high", actor=dispatcher, reason="")
    services.message_urgency_correct(message=mine, urgency="emergency", actor=dispatcher, reason="second thoughts")
    services.message_urgency_correct(message=leaked, urgency="normal", actor=dispatcher, reason="")

    rows = corpus.with_corrections(corpus.read(corpus.TRAIN_FILE), selectors.triage_correction_examples(), [frozen])
    corrected = [(r.label, r.text) for r in rows if r.source == "correction"]
    assert corrected == [("emergency", mine.body)]


def test_triage_train_trains_on_the_corrections(anna_message, dispatcher, monkeypatch):
    services.message_urgency_correct(message=anna_message, urgency="emergency", actor=dispatcher, reason="")
    seen = {}

    class Stop(Exception):
        pass

    def capture(rows, **_kwargs):  # the real training takes a minute; what it is given is the point
        seen["rows"] = rows
        raise Stop

    monkeypatch.setattr(train, "train", capture)
    with pytest.raises(Stop):
        call_command("triage_train", "--output", "/nonexistent/model.joblib")
    assert ("emergency", anna_message.body) in [(r.label, r.text) for r in seen["rows"] if r.source == "correction"]
