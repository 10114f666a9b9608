"""Versioned prompt templates: the wording of a prompt, in English and Japanese.

A template is a TOML file `<name>.toml` in this package. Its `name` equals the file name
and ends with its integer `version` (`next-v1` is version 1). It has one table of texts
per locale, and optionally `examples`, the name of a TOML file of few-shot examples
beside it. Wording changes go into a new version, so that figures measured with an
older template can be reproduced.
"""

from __future__ import annotations

import string
import sys
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any, NoReturn

from ...i18n import DEFAULT_LOCALE, normalize_locale
from ..backend import ModelError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

EXAMPLES_SUFFIX = ".examples.toml"

# Every locale table must contain these texts, with exactly these `{fields}`.
TEXT_FIELDS: dict[str, frozenset[str]] = {
    "system": frozenset(),
    "opening": frozenset({"test_id"}),
    "failure_heading": frozenset(),
    "failure": frozenset({"exc_type", "message"}),
    "failing_line": frozenset({"location", "line_text"}),
    "no_failure": frozenset(),
    "test_heading": frozenset(),
    "code_heading_trace": frozenset(),
    "trace_legend": frozenset(),
    "code_heading_plain": frozenset(),
    "notes_heading": frozenset(),
    "cut_marker": frozenset({"lines"}),
    "instruction_trace": frozenset(),
    "instruction_plain": frozenset(),
}
EXAMPLE_FIELDS = ("test_id", "exc_type", "message", "location", "line_text", "test_source",
                  "trace", "code", "fix")


class TemplateError(ModelError):
    """A prompt template that is unknown or invalid; the message names it and the fix."""


@dataclass(frozen=True)
class Example:
    """A worked few-shot example: a failure, its trace, the reasoning and the fix."""

    test_id: str
    exc_type: str
    message: str  # one line, line breaks escaped as in the trace
    location: str  # "file.py:line" of the failing line
    line_text: str
    test_source: str
    trace: str  # the NExT inline rendering
    code: str  # the same functions without the trace comments
    fix: str  # complete corrected definitions
    rationales: dict[str, str]  # locale -> reasoning over the trace


@dataclass(frozen=True)
class Template:
    """The texts of one template version, per locale, and its few-shot examples."""

    name: str
    version: int
    texts: dict[str, dict[str, str]]  # locale -> text key -> text
    examples: tuple[Example, ...]

    def text(self, key: str, locale: str, **fields: object) -> str:
        """Return text `key` in `locale` (English when the template lacks the locale)."""
        language = normalize_locale(locale)
        table = self.texts.get(language) or self.texts[DEFAULT_LOCALE]
        return table[key].format(**fields)


def available_templates() -> list[str]:
    """List the names of the templates shipped in this package."""
    return sorted(
        entry.name[:-len(".toml")]
        for entry in resources.files(__package__).iterdir()
        if entry.name.endswith(".toml") and not entry.name.endswith(EXAMPLES_SUFFIX)
    )


@lru_cache(maxsize=None)
def load_template(name: str) -> Template:
    """Load and check template `name`; raise TemplateError naming the available ones."""
    available = available_templates()
    if name not in available:
        raise TemplateError("model.prompt.error.unknown_template", name=name,
                            available=", ".join(available) or "-")
    data = _read_toml(name, f"{name}.toml")
    if data.get("name") != name:
        _invalid(name, f"its name is {data.get('name')!r}, not the file name {name!r}")
    version = data.get("version")
    if not isinstance(version, int) or not name.endswith(f"-v{version}"):
        _invalid(name, f"version {version!r} does not match the name's -v<version> suffix")

    texts = {locale: _check_texts(name, locale, data.get(locale)) for locale in ("en", "ja")}
    examples: tuple[Example, ...] = ()
    if data.get("examples"):
        examples = _load_examples(name, str(data["examples"]))
    return Template(name, version, texts, examples)


def _check_texts(name: str, locale: str, table: object) -> dict[str, str]:
    if not isinstance(table, dict):
        _invalid(name, f"the [{locale}] table is missing")
    missing = sorted(set(TEXT_FIELDS) - set(table))
    if missing:
        _invalid(name, f"[{locale}] lacks {', '.join(missing)}")
    for key, expected in TEXT_FIELDS.items():
        found = {field for _, field, _, _ in string.Formatter().parse(table[key]) if field}
        if found != expected:
            _invalid(name, f"[{locale}] {key} has the fields {sorted(found)}, "
                           f"expected {sorted(expected)}")
    return {key: str(table[key]) for key in TEXT_FIELDS}


def _load_examples(name: str, filename: str) -> tuple[Example, ...]:
    data = _read_toml(name, filename)
    examples = []
    for number, entry in enumerate(data.get("example", []), start=1):
        missing = [key for key in EXAMPLE_FIELDS if not entry.get(key)]
        missing += [f"rationale_{locale}" for locale in ("en", "ja")
                    if not entry.get(f"rationale_{locale}")]
        if missing:
            _invalid(name, f"example {number} in {filename} lacks {', '.join(missing)}")
        examples.append(Example(
            **{key: str(entry[key]) for key in EXAMPLE_FIELDS},
            rationales={locale: str(entry[f"rationale_{locale}"]) for locale in ("en", "ja")},
        ))
    return tuple(examples)


def _read_toml(name: str, filename: str) -> dict[str, Any]:
    try:
        text = resources.files(__package__).joinpath(filename).read_text(encoding="utf-8")
        return tomllib.loads(text)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        _invalid(name, f"{filename} cannot be read: {exc}")


def _invalid(name: str, detail: str) -> NoReturn:
    raise TemplateError("model.prompt.error.invalid_template", name=name, detail=detail)
