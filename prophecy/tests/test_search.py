"""Search that finds the case: fused lexical + vector ranking across languages, near-duplicates
collapsed, the resolution shown, and a clear answer to bad input."""

from __future__ import annotations

import hashlib

import pytest
from django.urls import reverse

from prophecy import selectors, services
from prophecy.engine.evaluate import RETRIEVAL_SPLITS, RETRIEVAL_TEST_SHA256
from prophecy.engine.index import IndexRow, VectorIndex
from prophecy.engine.lexical import Bm25, coverage_rerank, query_concepts, query_terms, rrf_fuse
from prophecy.engine.vocabulary import concepts_fuzzy, concepts_of, within_one_edit

pytestmark = pytest.mark.django_db

CASES = [
    ("1", "Klimatyzacja w sypialni cieknie, woda kapie na podłogę.", "Udrożniono odpływ skroplin."),
    ("2", "Klimatyzacja nie chłodzi, z nawiewu leci ciepłe powietrze.", "Uzupełniono czynnik."),
    ("3", "The boiler keeps losing pressure every few days.", "Radiator valve replaced."),
    ("4", "Pompa ciepła zamarza, na agregacie lód.", "Naprawiono czujnik odszraniania."),
]


def _sync(object_id: str, text: str, resolution: str, district: str = "mokotow") -> None:
    services.sync_object(object_type="hvaccrm.servicejob", object_id=object_id, text=text, district=district,
                         service_type="repair", created="2026-01-10T10:00:00+01:00", client_id=None,
                         extra={"resolution": resolution})


def test_the_frozen_test_split_is_unchanged():
    digest = hashlib.sha256(RETRIEVAL_SPLITS["test"].read_bytes()).hexdigest()
    assert digest == RETRIEVAL_TEST_SHA256, "the frozen test split changed: tune on dev, never on test"


def test_the_vocabulary_names_a_leak_the_same_in_polish_and_english():
    assert {"aircon", "leak"} <= set(concepts_of("klimatyzacja cieknie"))
    assert {"aircon", "leak"} <= set(concepts_of("AC leaking water"))
    assert {"heatpump", "ice"} <= set(concepts_of("pompy ciepła oszronione"))
    assert "hvleak" in query_terms("split kapie")


def test_tap_water_names_hot_water_not_a_leak():
    for text in ("leci tylko letnia woda z kranu", "brak ciepłej wody użytkowej", "no hot water from the tap",
                 "tap water is lukewarm"):
        concepts = set(concepts_of(text))
        assert "hotwater" in concepts and "leak" not in concepts, text
    assert "leak" in concepts_of("woda z centrali wentylacyjnej")


def test_an_ac_leak_query_ranks_the_leak_above_lukewarm_tap_water():
    _sync("tap", "Od wczoraj kocioł kondensacyjny leci tylko letnia woda z kranu.", "Odkamieniono wymiennik.")
    _sync("tap2", "Pompa ciepła w sklepie: leci tylko letnia woda z kranu.", "Wymieniono czujnik przepływu.")
    _sync("leak", "Klimatyzator w biurze cieknie, na podłodze kałuża.", "Udrożniono odpływ skroplin.")
    _sync("cool", "Klimatyzacja nie chłodzi, z nawiewu leci ciepłe powietrze.", "Uzupełniono czynnik.")
    answer = selectors.search_similar(query="klimatyzacja cieknie", limit=4, mode="hybrid")
    ranked = [r["object_id"] for r in answer["results"]]
    assert ranked[0] == "leak", ranked


def test_bm25_ranks_the_rarer_shared_term_first_and_forgets_removed_rows():
    bm = Bm25()
    bm.set(0, ["woda", "hvleak"])
    bm.set(1, ["woda", "hvnoise"])
    bm.set(2, ["hałas", "hvnoise"])
    scores = bm.scores({"hvleak": 1.0, "woda": 1.0}, size=3)
    assert scores[0] > scores[1] > scores[2] == 0
    bm.remove(0)
    assert bm.scores({"hvleak": 1.0}, size=3)[0] == 0


def test_a_misspelt_query_word_still_names_its_concept():
    assert within_one_edit("klematyzacja", "klimatyzacja") and within_one_edit("udner", "under")
    assert not within_one_edit("klimatyzacja", "klimat")
    assert {"hvaircon", "hvleak"} <= set(query_terms("klematyzacja ciekine"))
    assert "hvboiler" in query_concepts("boilre lost pressure")
    # Words the lemmatiser knows are taken as written: "house" is no misspelt "hose", nothing guessed.
    assert query_concepts("house table") == []
    assert concepts_fuzzy("klimatyzacja") == frozenset()  # spelt right: no guessing


def test_lexical_search_ignores_missing_diacritics():
    bm = Bm25()
    bm.set(0, ["ściana", "mokry"])
    bm.set(1, ["kocioł"])
    assert bm.scores({"sciana": 1.0}, size=2)[0] > 0
    assert bm.scores({"kociol": 1.0}, size=2)[1] > 0


def test_coverage_rerank_puts_the_text_naming_just_the_querys_problem_first():
    keywords = {"broad": ["hvaircon", "hvleak", "hvnoise", "hvsmell"], "exact": ["hvaircon", "hvleak"], "off": []}
    fused = [("broad", 0.8), ("exact", 0.78), ("off", 0.5)]
    ranked = coverage_rerank(fused, query_concepts={"hvaircon", "hvleak"}, keywords_of=keywords.__getitem__, best=0.8)
    assert [i for i, _ in ranked] == ["exact", "broad", "off"]
    assert coverage_rerank(fused, query_concepts=set(), keywords_of=keywords.__getitem__, best=0.8) == fused


def test_the_index_hybrid_search_applies_the_coverage_rerank(monkeypatch):
    import numpy as np

    from prophecy.engine import lexical

    index = VectorIndex(2)
    query = np.array([1.0, 0.0], dtype=np.float32)
    index.upsert([IndexRow("broad", query, keywords=("klimatyzacja", "ciec", "hvaircon", "hvleak", "hvnoise", "hvsmell")),
                  IndexRow("exact", np.array([0.6, 0.8], dtype=np.float32), keywords=("hvaircon", "hvleak"))])
    terms = query_terms("klimatyzacja cieknie")
    monkeypatch.setattr(lexical, "COVERAGE_WEIGHT", 0.0)
    assert [i for i, _ in index.search_hybrid(query, terms, limit=2)] == ["broad", "exact"]
    monkeypatch.undo()
    assert [i for i, _ in index.search_hybrid(query, terms, limit=2)] == ["exact", "broad"]


def test_a_query_with_typos_and_no_diacritics_finds_the_leak_case():
    for object_id, text, resolution in CASES:
        _sync(object_id, text, resolution)
    answer = selectors.search_similar(query="klimatyzacja ciekine woda na podlodze", limit=3, mode="hybrid")
    assert answer["results"][0]["object_id"] == "1"


def test_rank_fusion_prefers_what_both_rankings_put_high():
    fused = [i for i, _ in rrf_fuse([["a", "b", "c"], ["b", "c", "a"]])]
    assert fused[0] == "b"


def test_a_polish_leak_query_finds_the_leak_case_first_with_its_resolution():
    for object_id, text, resolution in CASES:
        _sync(object_id, text, resolution)
    answer = selectors.search_similar(query="AC leaking water", limit=3, mode="hybrid")
    assert answer["source"] == "hybrid"
    assert answer["results"][0]["object_id"] == "1"
    assert answer["results"][0]["resolution"] == "Udrożniono odpływ skroplin."
    answer = selectors.search_similar(query="klimatyzacja cieknie", limit=3, mode="hybrid")
    assert answer["results"][0]["object_id"] == "1"


def test_near_duplicate_texts_come_back_as_one_hit_with_their_count():
    for n in range(5):
        _sync(f"d{n}", f"Klimatyzacja nie chłodzi ({n + 1}).", "Uzupełniono czynnik.")
    _sync("other", "Kocioł traci ciśnienie.", "Wymieniono zawór.")
    answer = selectors.search_similar(query="klimatyzacja nie chłodzi", limit=5, mode="hybrid")
    first = answer["results"][0]
    assert first["duplicates"] == 5
    assert len([r for r in answer["results"] if "chłodzi" in r["text"]]) == 1


@pytest.mark.parametrize(("query", "notice"), [
    ("", "empty"), ("   ", "empty"), ("the and of i w na", "stop_words"),
])
def test_bad_queries_get_a_clear_notice_and_no_results(query, notice):
    answer = selectors.search_similar(query=query)
    assert answer["notice"] == notice and answer["results"] == []


def test_a_5000_character_query_is_cut_and_still_answered():
    _sync(*CASES[0])
    answer = selectors.search_similar(query="klimatyzacja cieknie " * 250)
    assert answer["notice"] == "truncated" and len(answer["query"]) <= selectors.QUERY_MAX_CHARS
    assert answer["results"]


def test_an_unknown_district_is_named_not_an_error():
    answer = selectors.search_similar(query="klimatyzacja cieknie", district="atlantis")
    assert answer["notice"] == "unknown_district" and answer["results"] == []


@pytest.mark.parametrize(("params", "text"), [
    ({"q": ""}, "notice-empty"),
    ({"q": "kocioł " * 800}, "notice-truncated"),
    ({"q": "the and of"}, "notice-stop_words"),
    ({"q": "kapie", "district": "atlantis"}, "notice-unknown_district"),
])
def test_the_search_page_answers_bad_input_with_a_message(client, dispatcher, params, text):
    client.force_login(dispatcher)
    page = client.get(reverse("prophecy:search"), params)
    assert page.status_code == 200
    assert text in page.content.decode()


def test_the_api_accepts_a_long_query_and_says_it_was_cut(client, dispatcher):
    client.force_login(dispatcher)
    body = client.get("/api/prophecy/search/", {"q": "kocioł " * 800}).json()
    assert body["notice"] == "truncated"
