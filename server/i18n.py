"""User-facing strings in English and Japanese.

Catalogs are JSON files `messages/<part>.<locale>.json`, one pair per part of the server
(engine, lsp, cli), so each part owns its strings. Every key of the English catalog must
exist in the Japanese one; `tests/test_i18n.py` checks that.
"""

from __future__ import annotations

import json
import logging
from functools import lru_cache
from pathlib import Path
from typing import Any

from tracefix.tracer.notes import TEMPLATES as NOTE_TEMPLATES
from tracefix.tracer.notes import Note

log = logging.getLogger(__name__)

SUPPORTED_LOCALES = ("en", "ja")
DEFAULT_LOCALE = "en"
_CATALOG_DIR = Path(__file__).parent / "messages"


def normalize_locale(locale: str | None) -> str:
    """Map an LSP or OS locale tag ("ja", "ja-JP", "ja_JP.UTF-8", "en-US") to a catalog."""
    if not locale:
        return DEFAULT_LOCALE
    language = locale.replace("_", "-").split("-", 1)[0].split(".", 1)[0].lower()
    return language if language in SUPPORTED_LOCALES else DEFAULT_LOCALE


@lru_cache(maxsize=None)
def catalog(locale: str) -> dict[str, str]:
    """Return the merged catalog of every part for one supported locale.

    The English texts of trace notes come from the tracer, which writes them (see
    `tracefix.tracer.notes`); their translations are in `messages/trace.<locale>.json`.
    """
    merged: dict[str, str] = {}
    if locale == DEFAULT_LOCALE:
        merged.update(NOTE_TEMPLATES)
    for path in sorted(_CATALOG_DIR.glob(f"*.{locale}.json")):
        with open(path, encoding="utf-8") as f:
            entries = json.load(f)
        duplicates = merged.keys() & entries.keys()
        if duplicates:
            raise ValueError(f"message keys defined twice, again in {path.name}: {sorted(duplicates)}")
        merged.update(entries)
    return merged


def translate(key: str, locale: str | None = None, **fields: object) -> str:
    """Return the message `key` in `locale`, formatted with `fields`.

    A key missing from the Japanese catalog falls back to English (and is logged once
    per key) so that a gap never hides a message from the user.
    """
    language = normalize_locale(locale)
    template = catalog(language).get(key)
    if template is None:
        if language != DEFAULT_LOCALE:
            _log_missing(key, language)
        template = catalog(DEFAULT_LOCALE).get(key)
    if template is None:
        raise KeyError(f"unknown message key {key!r}; add it to server/messages/*.en.json")
    return template.format(**fields)


@lru_cache(maxsize=None)
def _log_missing(key: str, language: str) -> None:
    log.warning("message %r has no %s translation; showing English", key, language)


def note_text(text: str, locale: str | None = None) -> str:
    """Show a note of a trace or an outcome (`tracefix.tracer.notes.Note`) in `locale`.

    A plain string, or a note whose key is missing from the catalogs or whose fields do
    not fit the template, is shown as its English text.
    """
    key = getattr(text, "key", "")
    if not key or normalize_locale(locale) == DEFAULT_LOCALE:
        return str(text)
    fields: dict[str, Any] = {name: note_text(value, locale) if isinstance(value, str) else value
                              for name, value in text.fields.items()}
    try:
        return translate(key, locale, **fields)
    except (KeyError, IndexError, ValueError) as exc:
        log.warning("note %r cannot be shown in %s (%s); showing English", key, locale, exc)
        return str(text)


def outcome_word(outcome: str, locale: str | None = None) -> str:
    """Return the word for a test outcome (`passed`, `crashed`, ...) in `locale`.

    An outcome missing from the catalog is returned unchanged.
    """
    if f"outcome.{outcome}" not in catalog(DEFAULT_LOCALE):
        return outcome
    return translate(f"outcome.{outcome}", locale)


def message_note(key: str, **fields: Any) -> Note:
    """Return a note that the server writes for later display, such as a snapshot's.

    It is the English text of `key`, carrying the key and fields so that `note_text`
    can show it in the reader's language.
    """
    return Note(translate(key, DEFAULT_LOCALE, **fields), key, fields)
