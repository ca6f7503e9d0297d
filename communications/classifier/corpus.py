"""The labelled triage corpus: a seeded generator of paraphrase families plus hand-written messages.

Why a generator and not only hand-written text: 1,500+ messages in two languages, with and without
Polish letters, typos and SMS style, cannot be typed by hand in a day; but templates alone teach a
model their own stems. So every family (corpus_families.py) is one *situation* written in several independent
phrasings, its slots filled from lists, its output perturbed (diacritics stripped, typos, SMS
abbreviations, a greeting or sign-off in the other language). The hand-written files add phrasing
no template has; `handwritten_train.tsv` (hand-written too) only ever joins the training side, after
the split is made.

The frozen test split holds out whole families (every phrasing of them) and a fixed share of the
hand-written messages, chosen by a hash of the text, so its figures measure messages whose wording
the model never saw. `python -m communications.classifier.corpus` rewrites the two files; the test
file's sha256 is recorded in docs/triage.md and checked by a test, so it cannot change unnoticed.

Labels: `emergency` = danger to people or property now (gas, carbon monoxide, smoke or fire, water
on electrics or flooding, refrigerant leaking into an occupied room, a server room or cold store or
pharmacy losing cooling with stock at risk, a vulnerable person without heating in frost);
`high` = a failure or loss of service without that danger; `normal` = quotes, inspections,
maintenance, scheduling, questions, and the hard negatives that name a danger without one.
"""

from __future__ import annotations

import hashlib
import random
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from communications.classifier.corpus_families import (
    FAMILIES,
    MIXERS,
    SLOTS,
    SMS,
    TEST_FAMILIES,
    TRAIN_ONLY_FAMILIES,
)

DATA = Path(__file__).parent / "data"
TRAIN_FILE = DATA / "corpus_train.tsv"
TEST_FILE = DATA / "corpus_test.tsv"
HANDWRITTEN_FILES = (DATA / "handwritten.tsv", Path(__file__).parents[1] / "tests" / "data" / "labelled_messages.tsv",
                     Path(__file__).parents[1] / "tests" / "data" / "heldout_messages.tsv")
# Hand-written messages for training only: read after the frozen split is made (they cannot move it).
HANDWRITTEN_TRAIN_FILE = DATA / "handwritten_train.tsv"
SEED = 20240214
LABELS = ("normal", "high", "emergency")
TEST_SHARE_HANDWRITTEN = 0.3


@dataclass(frozen=True)
class Row:
    label: str
    language: str
    source: str  # "family:<id>" or "hand"
    text: str

    def line(self) -> str:
        return f"{self.label}\t{self.language}\t{self.source}\t{self.text}"


FOLD = str.maketrans("ąćęłńóśźżĄĆĘŁŃÓŚŹŻ", "acelnoszzACELNOSZZ")


def strip_diacritics(text: str) -> str:
    text = text.translate(FOLD)
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def typo(text: str, rng: random.Random) -> str:
    words = text.split(" ")
    candidates = [i for i, w in enumerate(words) if len(w) > 4 and w.isalpha()]
    for i in rng.sample(candidates, k=min(len(candidates), rng.choice((1, 1, 2)))):
        w = words[i]
        j = rng.randrange(1, len(w) - 1)
        op = rng.choice(("swap", "drop", "double", "near"))
        if op == "swap":
            w = w[:j] + w[j + 1] + w[j] + w[j + 2:]
        elif op == "drop":
            w = w[:j] + w[j + 1:]
        elif op == "double":
            w = w[:j] + w[j] + w[j:]
        else:
            w = w[:j] + rng.choice("aeiounmrstkl") + w[j + 1:]
        words[i] = w
    return " ".join(words)


def sms(text: str, rng: random.Random) -> str:
    out = text.lower()
    for word, subs in SMS.items():
        out = re.sub(rf"\b{re.escape(word)}\b", lambda _m, subs=subs: rng.choice(subs), out)
    out = re.sub(r"[,.;:]", "", out)
    return out + rng.choice(("", "!!", "??", " !!!", ""))


def perturb(text: str, language: str, rng: random.Random) -> str:
    if rng.random() < 0.45:
        text = strip_diacritics(text)
    if rng.random() < 0.35:
        text = typo(text, rng)
    if rng.random() < 0.25:
        text = sms(text, rng)
    if rng.random() < 0.12:
        mixer = rng.choice(MIXERS[language])
        text = f"{mixer} {text}" if mixer[0].isupper() else f"{text} {mixer}"
    if rng.random() < 0.05:
        text = text.upper()
    return re.sub(r"\s+", " ", text).strip(" ,")


def fill(template: str, rng: random.Random) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: rng.choice(SLOTS[m.group(1)]), template)


def generated(*, per_phrasing: int = 6, seed: int = SEED,
              families: list[tuple[str, str, str, list[str]]] = FAMILIES) -> list[Row]:
    rng = random.Random(seed)
    rows: list[Row] = []
    seen: set[str] = set()
    for family, label, language, phrasings in families:
        for template in phrasings:
            made = 0
            for _ in range(per_phrasing * 3):
                text = perturb(fill(template, rng), language, rng)
                if text.lower() not in seen:
                    seen.add(text.lower())
                    rows.append(Row(label, language, f"family:{family}", text))
                    made += 1
                if made == per_phrasing:
                    break
    return rows


def handwritten(files: tuple[Path, ...] = HANDWRITTEN_FILES, source: str = "hand") -> list[Row]:
    rows: list[Row] = []
    for path in files:
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip() and not line.startswith("#"):
                label, language, text = line.split("\t")
                rows.append(Row(label, language, source, text.strip()))
    return rows


def _held_out(row: Row) -> bool:
    if row.source.startswith("family:"):
        return row.source.removeprefix("family:") in TEST_FAMILIES
    digest = hashlib.sha256(row.text.encode("utf-8")).digest()
    return digest[0] < 256 * TEST_SHARE_HANDWRITTEN


def build() -> tuple[list[Row], list[Row]]:
    """(train, test): the frozen split by family and by hash, duplicates across the split removed;
    the training-only families and hand-written messages join the training side afterwards (they
    cannot move the split)."""
    rows = generated() + handwritten()
    train, test = [r for r in rows if not _held_out(r)], [r for r in rows if _held_out(r)]
    train += generated(seed=SEED + 1, families=TRAIN_ONLY_FAMILIES)
    train += handwritten((HANDWRITTEN_TRAIN_FILE,), source="hand-train")
    test_keys = {r.text.lower() for r in test}
    seen: set[str] = set()
    train = [r for r in train if r.text.lower() not in test_keys and not (r.text.lower() in seen or seen.add(r.text.lower()))]
    return train, test


def with_corrections(train: list[Row], corrections: list[tuple[str, str, str]], test: list[Row]) -> list[Row]:
    """The training rows plus the office's corrections ((urgency, language, text), source
    "correction"). A corrected text replaces a training row of the same text (the office has the
    last word); a text of the frozen test split is never added, so its figures stay unseen data."""
    test_keys = {r.text.strip().lower() for r in test}
    added: dict[str, Row] = {}
    for label, language, text in corrections:
        key = text.strip().lower()
        if label in LABELS and key and key not in test_keys:
            added[key] = Row(label, language, "correction", text.strip().replace("\t", " ").replace("\n", " "))
    return [r for r in train if r.text.strip().lower() not in added] + list(added.values())


def read(path: Path) -> list[Row]:
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            label, language, source, text = line.split("\t", 3)
            rows.append(Row(label, language, source, text))
    return rows


def write(path: Path, rows: list[Row], *, note: str) -> None:
    header = f"# label\tlanguage\tsource\ttext   ({note})\n"
    path.write_text(header + "".join(r.line() + "\n" for r in rows), encoding="utf-8")


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


if __name__ == "__main__":
    train, test = build()
    write(TRAIN_FILE, train, note="generated by communications/classifier/corpus.py; train and cross-validate on this")
    write(TEST_FILE, test, note="FROZEN test split: held-out families and hand-written share; never tune on it")
    for name, rows in (("train", train), ("test", test)):
        counts = {label: sum(r.label == label for r in rows) for label in LABELS}
        print(name, len(rows), counts, "hand", sum(r.source == "hand" for r in rows))
    print("test sha256", sha256(TEST_FILE))
