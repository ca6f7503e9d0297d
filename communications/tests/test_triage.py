"""The triage corpus and its frozen test split."""

from __future__ import annotations

from communications.classifier import corpus

FROZEN_TEST_SHA256 = "b40733d268a6a47300c3d365e6ddd74fabce7723f9b2902a79be15df983ccfec"


def test_the_frozen_test_split_has_not_changed():
    assert corpus.sha256(corpus.TEST_FILE) == FROZEN_TEST_SHA256


def test_the_generator_reproduces_both_committed_splits():
    train, test = corpus.build()
    assert [r.line() for r in test] == [r.line() for r in corpus.read(corpus.TEST_FILE)]
    assert [r.line() for r in train] == [r.line() for r in corpus.read(corpus.TRAIN_FILE)]


def test_the_corpus_has_1500_messages_in_both_languages_and_all_labels():
    rows = corpus.read(corpus.TRAIN_FILE) + corpus.read(corpus.TEST_FILE)
    assert len(rows) >= 1500
    assert {r.language for r in rows} == {"pl", "en"}
    for label in corpus.LABELS:
        for language in ("pl", "en"):
            assert sum(r.label == label and r.language == language for r in rows) >= 100


def test_no_test_text_is_in_training_and_held_out_families_are_only_in_test():
    train, test = corpus.read(corpus.TRAIN_FILE), corpus.read(corpus.TEST_FILE)
    assert not {r.text.lower() for r in train} & {r.text.lower() for r in test}
    held = {f"family:{f}" for f in corpus.TEST_FAMILIES}
    assert not any(r.source in held for r in train)
