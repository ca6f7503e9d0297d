"""Text folding shared by the apps: the classifier, the portal's booking check and the district names
all compare Polish text without case or diacritics, and must fold it the same way."""

from __future__ import annotations

import unicodedata


def text_fold(text: str) -> str:
    """Lower case, diacritics removed: "Łódź, Żółć" -> "lodz, zolc".

    ł is replaced by hand because Unicode does not decompose it (it is a letter of its own, not
    l with a combining mark); every other Polish letter decomposes under NFKD."""
    text = unicodedata.normalize("NFKD", text.lower().replace("ł", "l"))
    return "".join(c for c in text if not unicodedata.combining(c))
