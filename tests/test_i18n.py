"""Every English message has a Japanese translation with the same placeholders."""

import json
import string
from pathlib import Path

import pytest

from tracefix.server.i18n import normalize_locale, translate

MESSAGES = Path(__file__).resolve().parents[1] / "server" / "messages"


def _fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


@pytest.mark.parametrize("english", sorted(MESSAGES.glob("*.en.json")), ids=lambda p: p.name)
def test_japanese_catalog_matches_english(english):
    japanese = english.with_name(english.name.replace(".en.json", ".ja.json"))
    assert japanese.exists(), f"{japanese.name} is missing"
    en = json.loads(english.read_text(encoding="utf-8"))
    ja = json.loads(japanese.read_text(encoding="utf-8"))
    assert sorted(en) == sorted(ja)
    for key, template in en.items():
        assert _fields(template) == _fields(ja[key]), key


def test_locale_tags_normalize():
    assert normalize_locale("ja-JP") == "ja"
    assert normalize_locale("ja_JP.UTF-8") == "ja"
    assert normalize_locale("en-US") == "en"
    assert normalize_locale("fr") == "en"
    assert normalize_locale(None) == "en"


def test_translate_formats_fields_per_locale():
    assert translate("cli.no_failing_tests", "en", path="a.py", count=3) == (
        "No failing test in a.py (3 tests ran)."
    )
    assert "a.py" in translate("cli.no_failing_tests", "ja-JP", path="a.py", count=3)
    assert "失敗" in translate("cli.no_failing_tests", "ja-JP", path="a.py", count=3)


def test_unknown_key_names_itself():
    with pytest.raises(KeyError, match="no.such.key"):
        translate("no.such.key", "en")


def test_trace_notes_japanese_same_fields():
    # The English texts of trace notes live in the tracer, which writes them.
    from tracefix.tracer.notes import TEMPLATES

    ja = json.loads((MESSAGES / "trace.ja.json").read_text(encoding="utf-8"))
    assert sorted(ja) == sorted(TEMPLATES)
    for key, template in TEMPLATES.items():
        assert _fields(template) == _fields(ja[key]), key


def test_note_json_round_trip():
    from tracefix.server.i18n import note_text
    from tracefix.server.runner.outcomes import timeout_message
    from tracefix.tracer.notes import Note, note, note_from_json, note_to_json

    stuck = timeout_message(30.0, "", "/p/app.py:12")
    assert stuck == "the test run timed out after 30 s while this test was running; stuck at /p/app.py:12"
    again = note_from_json(json.loads(json.dumps(note_to_json(stuck))))
    assert isinstance(again, Note)
    assert again == stuck
    assert again.key == "trace.outcome.stuck_at"
    # The nested note (the timeout) is translated too; data (the place) is kept as is.
    assert note_text(again, "ja") == (
        "このテストの実行中に、テスト実行が 30 秒でタイムアウトしました。止まっていた場所: /p/app.py:12")
    assert note_text(again, "en") == str(stuck)
    # A plain string, as older traces hold, is shown as written in every locale.
    assert note_from_json("an old note") == "an old note"
    assert note_text("an old note", "ja") == "an old note"
    with pytest.raises(KeyError, match="no.such.note"):
        note("no.such.note")
