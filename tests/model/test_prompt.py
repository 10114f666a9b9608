"""The model prompt: content, Japanese, the no-trace ablation, fitting a budget, templates."""

from __future__ import annotations

import re

import pytest

from prompt_helpers import count_quarter_chars, quixbugs_context
from tracefix.server.model.backend import ModelError
from tracefix.server.model.prompt import (
    _shrink_steps,
    _test_function_source,
    build_prompt,
    drop_order,
)
from tracefix.server.model.templates import (
    TemplateError,
    available_templates,
    load_template,
)
from tracefix.tracer.inline import inline_functions

# Lines the inline rendering adds around the code: its header and its failure footer.
TRACE_FRAME = re.compile(r"^# (Trace of |FAILED|CRASHED|assert operands:|Recording stopped|NOTE:)")
# A trace comment as the inline rendering appends it to a source line.
TRACE_COMMENT = re.compile(r"  # (\(\d+\)|call\b|!! ).*$")


@pytest.fixture(scope="module")
def shortest_path(tmp_path_factory):
    """shortest_path_length: a program with helper functions that a tight budget drops."""
    return quixbugs_context("shortest_path_length", tmp_path_factory.mktemp("spl"))


@pytest.fixture(scope="module")
def gcd(tmp_path_factory):
    return quixbugs_context("gcd", tmp_path_factory.mktemp("gcd"))


def user_text(prompt) -> str:
    return prompt.messages[-1]["content"]


def full_prompt(context, **options):
    return build_prompt(context, count_tokens=count_quarter_chars, budget=10**6, **options)


def test_prompt_holds_failure_test_and_trace(shortest_path):
    prompt = full_prompt(shortest_path)
    text = user_text(prompt)

    assert [m["role"] for m in prompt.messages] == ["system", "user"]
    assert "`test_shortest_path_length.py::test1`" in text
    assert "AssertionError: assert 1 == 4" in text
    assert "Failing line (test_shortest_path_length.py:89): `assert result == 4`" in text
    assert "## Failing test\n```python\ndef test1():\n" in text
    assert shortest_path.inline.rstrip() in text
    assert "Reason over the execution trace step by step" in text
    assert "in one ```python block" in text
    assert "without test code" in text
    assert text.rstrip().endswith("without the trace comments.")


def test_prompt_reports_full_settings(shortest_path):
    prompt = full_prompt(shortest_path)

    assert prompt.tokens == count_quarter_chars(prompt.messages)
    assert prompt.k == 3
    assert prompt.value_width == 120
    assert prompt.cuts == []
    assert prompt.dropped == []
    assert prompt.template == "next-v1"
    assert "## Left out" not in user_text(prompt)


def test_parametrized_test_source_has_decorator(gcd):
    text = user_text(full_prompt(gcd))

    assert "```python\n@pytest.mark.parametrize(" in text
    assert "def test_gcd(input_data, expected):\n    result = gcd(" in text
    assert "RecursionError: maximum recursion depth exceeded" in text
    assert "Failing line (gcd.py:5): `return gcd(a % b, b)`" in text


def test_japanese_prompt_asks_japanese_reasoning(shortest_path):
    prompt = full_prompt(shortest_path, locale="ja")
    text = user_text(prompt)

    assert "Python プログラマー" in prompt.messages[0]["content"]
    assert "推論は日本語で書いてください" in text
    assert "## 失敗\nAssertionError: assert 1 == 4" in text
    assert "失敗した行（test_shortest_path_length.py:89）" in text
    assert shortest_path.inline.rstrip() in text


def test_english_prompt_has_no_japanese(shortest_path):
    text = user_text(full_prompt(shortest_path))

    assert "日本語" not in text
    assert not re.search(r"[\u3040-\u30ff]", text)


def test_ablation_has_no_trace_comments(shortest_path):
    prompt = full_prompt(shortest_path, with_trace=False)
    text = user_text(prompt)

    assert "# (" not in text
    assert "call:" not in text
    assert "!!" not in text
    assert "# Trace of" not in text
    assert "def shortest_path_length(length_by_edge, startnode, goalnode):\n" in text
    assert "        if node is goalnode:\n            return distance\n" in text
    assert "## Code the test executed\n```python\n" in text
    assert "Reason over the code step by step" in text
    assert "trace" not in text.lower()


def test_ablation_shows_same_functions(shortest_path):
    traced = user_text(full_prompt(shortest_path))
    plain = user_text(full_prompt(shortest_path, with_trace=False))

    headings = [line for line in traced.splitlines() if line.endswith(".py") and
                line.startswith("# ")]
    assert headings == [line for line in plain.splitlines() if line.endswith(".py") and
                        line.startswith("# ")]
    for line in plain.split("```python\n")[-1].split("```")[0].splitlines():
        assert line in traced.splitlines() or line.rstrip() in {
            TRACE_COMMENT.sub("", l) for l in traced.splitlines()}


def test_shrink_steps_documented_order():
    assert _shrink_steps(3, 120) == [(3, None), (2, None), (2, 60), (1, 60), (1, 30), (1, 12)]
    assert _shrink_steps(1, 120) == [(1, None), (1, 60), (1, 30), (1, 12)]
    assert _shrink_steps(3, 40) == [(3, None), (2, None), (2, 30), (1, 30), (1, 12)]
    assert [k for k, _ in _shrink_steps(20, 120)][:6] == [20, 10, 10, 5, 5, 4]


def test_budget_shrinks_in_documented_order(shortest_path):
    full = full_prompt(shortest_path)
    expected_drops = [f.name for f in drop_order(
        shortest_path, inline_functions(shortest_path.trace, shortest_path.sources))]
    assert expected_drops == ["insert_or_update", "get"]

    states = []
    for budget in range(full.tokens, 300, -10):
        try:
            prompt = build_prompt(shortest_path, count_tokens=count_quarter_chars, budget=budget)
        except ModelError:
            break
        assert prompt.tokens <= budget
        state = (prompt.k, prompt.value_width,
                 tuple(name.split(" ")[0] for name in prompt.dropped),
                 any("lines from the middle" in cut for cut in prompt.cuts))
        if not states or states[-1] != state:
            states.append(state)

    order = [(3, 120, (), False), (2, 120, (), False), (2, 60, (), False),
             (1, 60, (), False), (1, 30, (), False), (1, 12, (), False),
             (1, 12, ("insert_or_update",), False), (1, 12, ("insert_or_update", "get"), False),
             (1, 12, ("insert_or_update", "get"), True)]
    positions = [order.index(state) for state in states]
    assert positions == sorted(positions)
    assert states[0] == order[0]
    assert states[-1] == order[-1]
    assert (1, 12, ("insert_or_update", "get"), False) in states


def test_budget_cuts_reported_in_order(shortest_path):
    prompt = build_prompt(shortest_path, count_tokens=count_quarter_chars, budget=1000)

    assert prompt.k == 1
    assert prompt.value_width == 12
    assert prompt.dropped == ["insert_or_update (shortest_path_length.py:36)",
                              "get (shortest_path_length.py:30)"]
    assert prompt.cuts[0].startswith("Loop compression set to k=1 (the trace recorded k=3)")
    assert prompt.cuts[1] == "Values are cut to 12 characters (recorded up to 120)."
    assert prompt.cuts[2] == ("Left out 2 functions least related to the failure: "
                              "insert_or_update (shortest_path_length.py:36), "
                              "get (shortest_path_length.py:30).")
    text = user_text(prompt)
    assert "## Left out to fit the prompt\n- Loop compression set to k=1" in text
    assert "def insert_or_update(" not in text
    assert "def get(" not in text


def test_test_function_never_dropped(shortest_path):
    functions = inline_functions(shortest_path.trace, shortest_path.sources)
    droppable = drop_order(shortest_path, functions)

    assert any(f.is_test for f in functions)
    assert not any(f.is_test for f in droppable)
    assert "shortest_path_length" not in [f.name for f in droppable]

    for budget in (1200, 1000, 900, 700):
        prompt = build_prompt(shortest_path, count_tokens=count_quarter_chars, budget=budget)
        assert not any(name.startswith("test1 ") for name in prompt.dropped)
        assert not any(name.startswith("shortest_path_length ") for name in prompt.dropped)


def test_last_resort_cuts_middle_lines(shortest_path):
    prompt = build_prompt(shortest_path, count_tokens=count_quarter_chars, budget=700)
    text = user_text(prompt)

    marker = re.search(r"^# \.\.\. (\d+) lines left out here to fit the prompt \.\.\.$",
                       text, re.MULTILINE)
    assert marker is not None
    assert prompt.cuts[-1] == f"Left out {marker.group(1)} lines from the middle of the executed code."
    assert prompt.tokens <= 700
    assert text.index("# Trace of") < marker.start()
    assert "assert operands: left=1 == right=4" in text


def test_last_resort_cuts_fewest_lines(shortest_path):
    counted: dict[int, int] = {}

    def count(messages):
        tokens = count_quarter_chars(messages)
        marker = re.search(r"# \.\.\. (\d+) lines left out", messages[-1]["content"])
        counted[int(marker.group(1)) if marker else 0] = tokens
        return tokens

    prompt = build_prompt(shortest_path, count_tokens=count, budget=700)
    cut = int(re.search(r"Left out (\d+) lines", prompt.cuts[-1]).group(1))

    assert cut > 0
    assert counted[cut] <= 700
    assert counted[cut - 1] > 700


def test_budget_too_small_raises(shortest_path):
    with pytest.raises(ModelError) as error:
        build_prompt(shortest_path, count_tokens=count_quarter_chars, budget=50)

    assert error.value.key == "model.prompt.error.budget"
    assert "budget of 50 tokens" in str(error.value)
    assert "トークン" in error.value.render("ja")


def test_invalid_budget_rejected(gcd):
    with pytest.raises(ValueError, match="budget=0"):
        build_prompt(gcd, count_tokens=count_quarter_chars, budget=0)


def test_cuts_localized_in_japanese(shortest_path):
    prompt = build_prompt(shortest_path, count_tokens=count_quarter_chars, budget=1000,
                          locale="ja")

    assert prompt.cuts[0].startswith("ループ圧縮を k=1 にしました")
    assert prompt.cuts[1] == "値を 12 文字で切り詰めました（記録時は最大 120 文字）。"
    assert "## プロンプトに収めるために省略した内容\n- ループ圧縮" in user_text(prompt)


def test_few_shot_turns_before_request(gcd):
    prompt = full_prompt(gcd, few_shot=2)
    roles = [m["role"] for m in prompt.messages]

    assert roles == ["system", "user", "assistant", "user", "assistant", "user"]
    assert "count_vowels" in prompt.messages[1]["content"]
    assert "# (3) ch='E'" in prompt.messages[1]["content"]
    assert prompt.messages[2]["content"].endswith(
        '```python\ndef count_vowels(text):\n    count = 0\n    for ch in text:\n'
        '        if ch.lower() in "aeiou":\n            count += 1\n    return count\n```')
    assert "window_sums" in prompt.messages[3]["content"]
    assert "`test_gcd.py::test_gcd[case2]`" in user_text(prompt)


def test_few_shot_follows_locale_and_ablation(gcd):
    japanese = full_prompt(gcd, few_shot=1, locale="ja")
    plain = full_prompt(gcd, few_shot=3, with_trace=False)

    assert "ステップ" in japanese.messages[2]["content"]
    assert "推論は日本語で書いてください" in japanese.messages[1]["content"]
    for message in plain.messages:
        assert "# (" not in message["content"]


def test_few_shot_dropped_first(gcd):
    without = full_prompt(gcd)
    prompt = build_prompt(gcd, count_tokens=count_quarter_chars, budget=without.tokens,
                          few_shot=3)

    assert prompt.cuts == ["Left out 3 of the 3 few-shot examples."]
    assert prompt.k == 3
    assert [m["role"] for m in prompt.messages] == ["system", "user"]
    assert "## Left out" not in user_text(prompt)


def test_too_many_examples_rejected(gcd):
    with pytest.raises(TemplateError) as error:
        full_prompt(gcd, few_shot=4)

    assert error.value.key == "model.prompt.error.few_shot"
    assert "has 3 few-shot examples, but 4 were requested" in str(error.value)


def test_templates_load():
    assert "next-v1" in available_templates()

    template = load_template("next-v1")

    assert template.name == "next-v1"
    assert template.version == 1
    assert set(template.texts) == {"en", "ja"}
    assert len(template.examples) == 3
    assert template.text("opening", "ja-JP", test_id="t") == "テスト `t` が失敗しています。"
    assert template.text("opening", "fr", test_id="t") == "The test `t` fails."


@pytest.mark.parametrize("index", range(3))
def test_example_code_matches_its_trace(index):
    example = load_template("next-v1").examples[index]

    lines = [TRACE_COMMENT.sub("", line) for line in example.trace.splitlines()
             if not TRACE_FRAME.match(line)]
    assert "\n".join(lines).strip() == example.code.strip()
    assert example.fix.startswith("def ")
    assert "test" not in example.fix
    assert re.search(r"[\u3040-\u30ff]", example.rationales["ja"])


def test_unknown_template_names_available(gcd):
    with pytest.raises(TemplateError) as error:
        full_prompt(gcd, template="next-v9")

    assert error.value.key == "model.prompt.error.unknown_template"
    assert str(error.value) == ("Prompt template 'next-v9' not found. "
                                "Available templates: next-v1.")
    assert "next-v9" in error.value.render("ja")


def test_test_source_of_class_method():
    source = ("import pytest\n\n\nclass TestStack:\n    @pytest.mark.slow\n"
              "    def test_pop(self, size):\n        assert size\n\n    def other(self):\n"
              "        pass\n")

    text = _test_function_source(source, "test_s.py::TestStack::test_pop[3]")

    assert text == "@pytest.mark.slow\ndef test_pop(self, size):\n    assert size\n"
    assert _test_function_source(source, "test_s.py::test_missing") == source
    assert _test_function_source("def (:\n", "test_s.py::test_x") == "def (:\n"


def test_prompt_includes_failure_snapshot(shortest_path):
    # The state at the failure, read with real debugpy, joins the failure section, bounded.
    import copy

    from tracefix.server.debug import take_snapshot
    from tracefix.server.model.prompt import SNAPSHOT_CHARS

    context = copy.deepcopy(shortest_path)
    snapshot = take_snapshot(context.root, context.test_id)
    context.trace.snapshot = snapshot.to_json()
    text = user_text(full_prompt(context))

    failure = text.split("## Failure\n", 1)[1].split("\n## ", 1)[0]
    assert "# State at the failure (read with a debugger): AssertionError: assert 1 == 4" in failure
    state = failure[failure.index("# State at the failure"):]
    assert len(state) <= SNAPSHOT_CHARS
    assert "# test1 (test_shortest_path_length.py:89): " in state
    assert "result=1" in state


def test_unreliable_trace_is_not_given_to_the_model(shortest_path):
    # The traced run ended differently from the untraced one: the prompt shows the code
    # without trace comments, as the no-trace ablation does, and gives the reason.
    import copy

    context = copy.deepcopy(shortest_path)
    context.trace.reliable = False
    prompt = full_prompt(context)
    text = user_text(prompt)

    assert not any(TRACE_COMMENT.search(line) for line in text.splitlines())
    assert "The execution trace was left out: the traced run ended differently" in text
    assert prompt.cuts[0].startswith("The execution trace was left out")
    # The code is the one the no-trace ablation shows.
    ablation = user_text(full_prompt(shortest_path, with_trace=False))
    code = ablation.split("```python\n")[2].split("```")[0]
    assert code in text
