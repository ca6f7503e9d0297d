"""The .po files are the only source of translations: every Polish entry is translated and current,
every catalogue compiles, and a safety instruction has one wording."""

from __future__ import annotations

import gettext
from pathlib import Path

import polib
from django.conf import settings
from django.utils import translation

from hvaccrm.management.commands.compiletranslations import locale_roots


def _catalogues(language: str) -> list[Path]:
    return sorted(path for root in locale_roots() for path in root.glob(f"{language}/LC_MESSAGES/django.po"))


def _name(path: Path) -> str:
    return str(path.relative_to(Path(settings.BASE_DIR).resolve()))


def test_every_catalogue_root_has_a_polish_and_an_english_catalogue():
    roots = locale_roots()
    assert len(roots) >= 6  # the project's locale/ and five apps'
    for root in roots:
        assert (root / "pl/LC_MESSAGES/django.po").is_file(), root
        assert (root / "en/LC_MESSAGES/django.po").is_file(), root


def test_no_polish_entry_is_untranslated_or_fuzzy():
    problems = []
    for path in _catalogues("pl"):
        po = polib.pofile(str(path))
        problems += [f"{_name(path)}: untranslated: {e.msgid!r}" for e in po.untranslated_entries()]
        problems += [f"{_name(path)}: fuzzy: {e.msgid!r}" for e in po.fuzzy_entries()]
        plurals = int(po.metadata["Plural-Forms"].split("nplurals=")[1].split(";")[0])
        problems += [f"{_name(path)}: {len(e.msgstr_plural)} plural forms, not {plurals}: {e.msgid!r}"
                     for e in po if e.msgid_plural and len(e.msgstr_plural) != plurals]
    assert not problems, "run `make messages` and translate in the .po files:\n" + "\n".join(problems)


def test_every_polish_catalogue_compiles_and_returns_its_translations(tmp_path):
    for path in _catalogues("pl"):
        po = polib.pofile(str(path))
        mo = tmp_path / f"{path.parent.parent.parent.parent.name}.mo"
        po.save_as_mofile(str(mo))
        with mo.open("rb") as handle:
            compiled = gettext.GNUTranslations(handle)
        for entry in po.translated_entries():
            if entry.msgid_plural:
                assert compiled.ngettext(entry.msgid, entry.msgid_plural, 1) == entry.msgstr_plural[0]
            else:
                assert compiled.gettext(entry.msgid) == entry.msgstr, (_name(path), entry.msgid)


def test_strings_of_the_core_and_of_each_app_render_in_polish():
    # Needs the compiled .mo files: `make test` and `make messages` compile them first.
    samples = {
        "Skip to content": "Przejdź do treści",  # the project's locale/
        "Unknown district.": "Nieznana dzielnica.",  # core
        "Mark read": "Oznacz jako przeczytane",  # communications
        "Invitations sent: %(n)d.": "Wysłane zaproszenia: %(n)d.",  # portal
        "symptoms": "objawy",  # prophecy
        "Boundary": "Granica",  # mapping
        "Audit and integration health": "Audyt i stan integracji",  # audit
    }
    with translation.override("pl"):
        assert {msgid: translation.gettext(msgid) for msgid in samples} == samples
    with translation.override("en"):
        assert translation.gettext("Mark read") == "Mark read"


def test_the_gas_safety_instruction_has_one_wording():
    wordings = {e.msgid for path in _catalogues("pl") for e in polib.pofile(str(path)) if "992" in e.msgid}
    assert len(wordings) == 1, wordings
