"""`manage.py triage_train`: retrain the triage model, compare it with the shipped one on the frozen split.

It trains on the corpus's training split plus the office's urgency corrections (TriageCorrection,
the newest per message; never a text of the frozen test split).

The new model replaces the file only when its emergency recall on the frozen split is not lower
than the shipped model's (`--force` overrides): a retraining must never quietly miss more
emergencies.
"""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from communications import selectors
from communications.classifier import corpus, model, train


class Command(BaseCommand):
    help = "Retrain the triage model (seeded) and replace the shipped one unless it misses more emergencies."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--force", action="store_true", help="replace the model even with a lower emergency recall")
        parser.add_argument("--output", default=str(model.MODEL_FILE), help="where to write the model (.joblib)")

    def handle(self, *args, **options) -> None:
        output = Path(options["output"])
        test = corpus.read(corpus.TEST_FILE)
        rows = corpus.with_corrections(corpus.read(corpus.TRAIN_FILE), selectors.triage_correction_examples(), test)
        corrected = sum(r.source == "correction" for r in rows)
        self.stdout.write(f"training on {len(rows)} labelled messages ({corrected} of them the office's corrections); "
                          f"frozen test split: {len(test)}")
        fresh = train.train(rows, log=self.stdout.write)
        new = train.evaluate(fresh, test)
        try:
            shipped = train.evaluate(model.load(), test)
        except model.ModelVersionError as err:
            shipped = None
            self.stdout.write(f"shipped model unusable: {err}")
        self.stdout.write(f"{'':10} {'recall':>8} {'precision':>10} {'macro-F1':>9}")
        for name, figures in (("shipped", shipped), ("new", new)):
            if figures is not None:
                self.stdout.write(f"{name:10} {figures.emergency_recall:8.3f} {figures.emergency_precision:10.3f} "
                                  f"{figures.macro_f1:9.3f}")
        if shipped is not None and new.emergency_recall < shipped.emergency_recall and not options["force"]:
            raise CommandError("the new model has a lower emergency recall on the frozen split: not replaced "
                               "(--force to replace it anyway)")
        fresh.meta["frozen_test"] = new.as_dict()
        train.save(fresh, output)
        model.forget(output)
        self.stdout.write(self.style.SUCCESS(f"written {output} ({fresh.meta['seconds']} s of training)"))
