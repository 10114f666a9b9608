"""map_fix on classes, methods, newline and indentation styles, several files, and refusals."""

import os
import textwrap

import pytest

from answer_helpers import (assert_only_definitions_changed, available, buggy, load, program_path,
                            task_sources, ROOT)
from tracefix.server.i18n import translate
from tracefix.server.model.answer import parse_answer
from tracefix.server.model.fixmap import map_fix

STACK_PATH = os.path.join(ROOT, "stack.py")
TEST_PATH = os.path.join(ROOT, "tests", "test_stack.py")

# push inserts at the front, and top reads the front: together the stack is a queue.
STACK = '''"""Stacks for the tests of map_fix."""

import functools

LIMIT = 3


def _fits(items):
    return len(items) <= LIMIT


class Stack:
    """Last in, first out."""

    def __init__(self):
        self.items = []

    def push(self, item):
        self.items.insert(0, item)  # the bug: pop() takes from the end

    def pop(self):
        return self.items.pop()

    @property
    def top(self):
        return self.items[-1]

    def full(self):
        return not _fits(self.items + [None])


class Queue:
    def __init__(self):
        self.items = []

    def pop(self):
        return self.items.pop(0)
'''

STACK_TEST = '''from stack import Stack


def test_push_pop():
    stack = Stack()
    stack.push(1)
    stack.push(2)
    assert stack.pop() == 2
'''


def _text(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


def _sources(stack: str = STACK) -> dict[str, str]:
    return {STACK_PATH: stack, TEST_PATH: STACK_TEST}


def _map(answer: str, sources: dict[str, str] | None = None, target: str = STACK_PATH, **options):
    return map_fix(parse_answer(answer), sources=sources or _sources(), target_file=target, root=ROOT, **options)


def _stack_works(module) -> bool:
    stack = module.Stack()
    stack.push(1)
    stack.push(2)
    return stack.top == 2 and stack.pop() == 2 and stack.pop() == 1


PUSH_FIXED = _text("""
    def push(self, item):
        self.items.append(item)
    """)


def test_stack_check_fails_on_original():
    assert not _stack_works(load(STACK, "stack"))


def test_method_at_column_zero_goes_into_class():
    result = _map(f"The new item must go on the end.\n\n```python\n{PUSH_FIXED}```\n")
    assert result.ok
    assert result.replaced == ["Stack.push"]
    new = result.edits[STACK_PATH]
    assert "    def push(self, item):\n        self.items.append(item)\n" in new
    assert_only_definitions_changed(STACK, new, ["Stack.push"])
    assert _stack_works(load(new, "stack"))


def test_partial_class_maps_method_by_method():
    answer = _text("""
        ```python
        class Stack:
            ...

            def push(self, item):
                self.items.append(item)
        ```
        """)
    result = _map(answer)
    assert result.replaced == ["Stack.push"]
    assert_only_definitions_changed(STACK, result.edits[STACK_PATH], ["Stack.push"])
    assert _stack_works(load(result.edits[STACK_PATH], "stack"))


def test_decorator_belongs_to_method():
    # With push unchanged, a top that reads the front makes the stack right.
    answer = _text("""
        ```python
        class Stack:
            @property
            def top(self):
                return self.items[0]

            def pop(self):
                return self.items.pop(0)
        ```
        """)
    result = _map(answer)
    assert result.replaced == ["Stack.top", "Stack.pop"]
    new = result.edits[STACK_PATH]
    assert new.count("@property") == 1
    assert_only_definitions_changed(STACK, new, ["Stack.top", "Stack.pop"])
    assert _stack_works(load(new, "stack"))


def test_decorator_added_by_answer_replaces_old_one():
    answer = _text("""
        ```python
        class Stack:
            @functools.cached_property
            def top(self):
                return self.items[-1]
        ```
        """)
    new = _map(answer).edits[STACK_PATH]
    assert "    @functools.cached_property\n    def top(self):" in new
    assert "@property" not in new


def test_method_name_in_two_classes_is_ambiguous():
    answer = "```python\ndef pop(self):\n    return self.items.pop(-1)\n```\n"
    result = _map(answer)
    assert not result.ok
    assert result.reason_key == "model.answer.ambiguous"
    assert "Stack.pop" in result.reason
    assert "Queue.pop" in result.reason


def test_changed_class_statement_replaces_whole_class():
    answer = _text("""
        ```python
        class Stack:
            \"\"\"Last in, first out.\"\"\"

            limit = 3

            def __init__(self):
                self.items = []

            def push(self, item):
                self.items.append(item)

            def pop(self):
                return self.items.pop()

            @property
            def top(self):
                return self.items[-1]

            def full(self):
                return len(self.items) >= self.limit
        ```
        """)
    result = _map(answer)
    assert result.replaced == ["Stack"]
    new = result.edits[STACK_PATH]
    assert_only_definitions_changed(STACK, new, ["Stack"])
    assert "    limit = 3\n" in new
    assert _stack_works(load(new, "stack"))


def test_new_method_inserted_before_replaced_one():
    answer = _text("""
        ```python
        class Stack:
            def _append(self, item):
                self.items.append(item)

            def push(self, item):
                self._append(item)
        ```
        """)
    result = _map(answer)
    assert result.replaced == ["Stack.push"]
    assert result.added == ["Stack._append"]
    new = result.edits[STACK_PATH]
    assert new.index("    def _append(self, item):") < new.index("    def push(self, item):")
    assert_only_definitions_changed(STACK, new, ["Stack.push"], ["Stack._append"])
    assert _stack_works(load(new, "stack"))


def test_crlf_file_keeps_crlf():
    original = STACK.replace("\n", "\r\n")
    result = _map(f"```python\n{PUSH_FIXED}```\n", sources=_sources(original))
    new = result.edits[STACK_PATH]
    assert "\n" not in new.replace("\r\n", "")
    assert "        self.items.append(item)\r\n" in new
    assert_only_definitions_changed(original, new, ["Stack.push"])


def test_tab_indented_file_keeps_tabs():
    original = STACK.replace("    ", "\t")
    answer = _text("""
        ```python
        class Stack:
            def push(self, item):
                if item is not None:
                    self.items.append(item)
        ```
        """)
    new = _map(answer, sources=_sources(original)).edits[STACK_PATH]
    assert "\tdef push(self, item):\n\t\tif item is not None:\n\t\t\tself.items.append(item)\n" in new
    assert_only_definitions_changed(original, new, ["Stack.push"])
    assert _stack_works(load(new, "stack"))


def test_reindent_keeps_multiline_string_values():
    answer = _text('''
        ```python
        def full(self):
            """Tell whether one more item would pass LIMIT.

            Checked before each push.
            """
            message = """at most
        three"""
            return len(self.items) >= LIMIT and bool(message)
        ```
        ''')
    new = _map(answer).edits[STACK_PATH]
    assert 'message = """at most\nthree"""' in new
    assert "        Checked before each push.\n" in new
    module = load(new, "stack")
    assert module.Stack().full() is False


def test_whole_module_reduced_to_changed_function():
    if not available():
        pytest.skip("QuixBugs tasks are not staged here")
    original = buggy("shortest_path_length")
    code = original.split('\n"""')[0].replace(
        "get(unvisited_nodes, nextnode) + length_by_edge[node, nextnode]",
        "distance + length_by_edge[node, nextnode]")
    code = code.replace("\nfrom heapq import *\n", "\nimport heapq\nfrom heapq import *\n")
    answer = f"Use the distance of the popped node:\n\n```python\n{code}\n\nprint('done')\n```\n"
    sources = task_sources("shortest_path_length")
    path = program_path("shortest_path_length")
    result = map_fix(parse_answer(answer), sources=sources, target_file=path, root=ROOT)
    assert result.ok
    assert result.replaced == ["shortest_path_length"]
    assert_only_definitions_changed(original, result.edits[path], ["shortest_path_length"])


def test_whole_module_with_new_module_code_replaces_file():
    original = "import json\n\n\ndef load(text):\n    return json.loads(text)\n\n\ndef dump(data):\n    return json.dumps(data)\n"
    answer = _text("""
        ```python
        try:
            import simplejson as json
        except ImportError:
            import json


        def load(text):
            return json.loads(text or "null")


        def dump(data):
            return json.dumps(data)
        ```
        """)
    path = os.path.join(ROOT, "codec.py")
    result = map_fix(parse_answer(answer), sources={path: original}, target_file=path, root=ROOT)
    assert result.ok
    assert result.edits[path].startswith("try:\n    import simplejson as json\n")
    assert 'json.loads(text or "null")' in result.edits[path]


def test_missing_import_inserted_after_imports():
    answer = _text("""
        ```python
        import collections


        class Stack:
            def __init__(self):
                self.items = collections.deque()

            def push(self, item):
                self.items.append(item)
        ```
        """)
    result = _map(answer)
    new = result.edits[STACK_PATH]
    assert "import functools\nimport collections\n" in new
    assert result.replaced == ["Stack.__init__", "Stack.push"]
    assert _stack_works(load(new, "stack"))


def test_import_at_top_of_file_without_imports():
    if not available():
        pytest.skip("QuixBugs tasks are not staged here")
    answer = "```python\nimport math\n\ndef gcd(a, b):\n    return math.gcd(a, b)\n```\n"
    path = program_path("gcd")
    new = map_fix(parse_answer(answer), sources=task_sources("gcd"), target_file=path, root=ROOT).edits[path]
    assert new.startswith("import math\n\n\ndef gcd(a, b):\n    return math.gcd(a, b)\n")
    assert load(new, "gcd").gcd(35, 21) == 7


def test_changed_constant_replaced_in_place():
    answer = "```python\nLIMIT = 5\n\n\ndef _fits(items):\n    return len(items) < LIMIT\n```\n"
    result = _map(answer)
    assert result.replaced == ["_fits", "LIMIT"]
    new = result.edits[STACK_PATH]
    assert "\nLIMIT = 5\n" in new
    assert new.replace("LIMIT = 5\n", "LIMIT = 3\n", 1).replace("< LIMIT", "<= LIMIT") == STACK


def test_new_function_goes_to_target_when_nothing_replaced():
    answer = "```python\ndef size(stack):\n    return len(stack.items)\n```\n"
    result = _map(answer)
    assert result.added == ["size"]
    new = result.edits[STACK_PATH]
    assert new.index("def size(stack):") > new.index("class Queue:")
    assert load(new, "stack").size(load(new, "stack").Stack()) == 0


def test_new_helper_unused_by_fix_is_left_out():
    answer = _text("""
        ```python
        class Stack:
            def push(self, item):
                self.items.append(item)


        def demo():
            stack = Stack()
            stack.push(1)
            return stack.pop()


        def test_demo():
            assert demo() == 1
        ```
        """)
    result = _map(answer)
    assert result.replaced == ["Stack.push"]
    assert result.added == []
    assert "def demo" not in result.edits[STACK_PATH]


def test_later_block_wins_and_identical_block_is_ignored():
    answer = _text("""
        ```python
        def push(self, item):
            self.items = self.items + [item]
        ```

        Simpler:

        ```python
        def push(self, item):
            self.items.append(item)
        ```

        For comparison, the original was:

        ```python
        def push(self, item):
            self.items.insert(0, item)
        ```
        """)
    new = _map(answer).edits[STACK_PATH]
    assert "        self.items.append(item)\n" in new
    assert "self.items + [item]" not in new


def test_fix_in_two_files():
    helper_path = os.path.join(ROOT, "pkg", "helpers.py")
    main_path = os.path.join(ROOT, "pkg", "main.py")
    sources = {
        helper_path: "def double(x):\n    return x + x + x\n",
        main_path: "from pkg.helpers import double\n\n\ndef quadruple(x):\n    return double(x) * 3\n",
    }
    answer = _text("""
        Both helpers multiply by the wrong factor.

        ```python
        # pkg/helpers.py
        def double(x):
            return x + x
        ```

        ```python
        # pkg/main.py
        def quadruple(x):
            return double(double(x))
        ```
        """)
    result = map_fix(parse_answer(answer), sources=sources, target_file=main_path, root=ROOT)
    assert result.ok
    assert result.edits == {
        helper_path: "def double(x):\n    return x + x\n",
        main_path: "from pkg.helpers import double\n\n\ndef quadruple(x):\n    return double(double(x))\n",
    }
    assert result.replaced == ["double", "quadruple"]


def test_path_hint_picks_file_among_namesakes():
    first = os.path.join(ROOT, "a", "util.py")
    second = os.path.join(ROOT, "b", "util.py")
    sources = {first: "def name():\n    return 'a'\n", second: "def name():\n    return 'b'\n"}
    answer = "```python title=\"b/util.py\"\ndef name():\n    return 'B'\n```\n"
    result = map_fix(parse_answer(answer), sources=sources, target_file=first, root=ROOT)
    assert list(result.edits) == [second]


def test_file_outside_root_is_refused():
    outside = "/elsewhere/lib.py"
    sources = {STACK_PATH: STACK, outside: "def shared():\n    return 1\n"}
    result = _map("```python\ndef shared():\n    return 2\n```\n", sources=sources)
    assert not result.ok
    assert result.reason_key == "model.answer.outside_root"
    assert outside in result.reason


def test_diff_of_file_not_run_is_refused():
    answer = _text("""
        ```diff
        --- a/other.py
        +++ b/other.py
        @@ -1 +1 @@
        -x = 1
        +x = 2
        ```
        """)
    result = _map(answer)
    assert result.reason_key == "model.answer.unknown_file"
    assert "other.py" in result.reason


def test_diff_creating_file_is_refused():
    answer = "```diff\n--- /dev/null\n+++ b/new.py\n@@ -0,0 +1 @@\n+x = 1\n```\n"
    result = _map(answer)
    assert result.reason_key == "model.answer.diff_file_operation"
    assert "new.py" in result.reason


def test_test_edit_allowed_when_asked():
    answer = "```python\ndef test_push_pop():\n    assert True\n```\n"
    refused = _map(answer)
    assert refused.reason_key == "model.answer.test_edit"
    allowed = _map(answer, allow_test_edits=True)
    assert allowed.ok
    assert list(allowed.edits) == [TEST_PATH]


def test_failing_test_file_refused_by_path():
    checks = os.path.join(ROOT, "checks.py")
    sources = {STACK_PATH: STACK, checks: "def check_stack():\n    assert False\n"}
    answer = "```python\ndef check_stack():\n    assert True\n```\n"
    refused = _map(answer, sources=sources, test_file="checks.py")
    assert refused.reason_key == "model.answer.test_edit"
    assert _map(answer, sources=sources).ok


def test_test_edit_dropped_beside_real_fix():
    answer = f"```python\n{PUSH_FIXED}\n\ndef test_push_pop():\n    assert True\n```\n"
    result = _map(answer)
    assert result.ok
    assert list(result.edits) == [STACK_PATH]
    assert result.notes == [translate("model.answer.test_edit", "en", path=os.path.join("tests", "test_stack.py"))]


def test_diff_on_crlf_file_with_trailing_blanks():
    original = STACK.replace("self.items.insert(0, item)  # the bug: pop() takes from the end",
                             "self.items.insert(0, item)   ").replace("\n", "\r\n")
    answer = _text("""
        ```diff
        --- stack.py
        +++ stack.py
        @@ -99,3 +99,3 @@
             def push(self, item):
        -        self.items.insert(0, item)
        +        self.items.append(item)
         
        ```
        """)
    result = _map(answer, sources=_sources(original))
    new = result.edits[STACK_PATH]
    assert "    def push(self, item):\r\n        self.items.append(item)\r\n\r\n    def pop" in new
    assert result.replaced == ["Stack.push"]
    assert_only_definitions_changed(original, new, ["Stack.push"])


def test_diff_pure_addition_hunk():
    answer = "```diff\n--- a/stack.py\n+++ b/stack.py\n@@ -5,0 +6 @@\n+MINIMUM = 0\n```\n"
    new = _map(answer).edits[STACK_PATH]
    assert new.splitlines()[5] == "MINIMUM = 0"
    assert new.replace("MINIMUM = 0\n", "", 1) == STACK


def test_file_without_final_newline_keeps_it_that_way():
    original = "def f():\n    return 1"
    path = os.path.join(ROOT, "f.py")
    answer = "```python\ndef f():\n    return 2\n```\n"
    result = map_fix(parse_answer(answer), sources={path: original}, target_file=path, root=ROOT)
    assert result.edits == {path: "def f():\n    return 2"}


def test_cut_off_fix_refused_even_after_complete_draft():
    answer = f"```python\n{PUSH_FIXED}```\n\nBetter:\n\n```python\ndef push(self, item):\n    if item"
    result = _map(answer)
    assert result.reason_key == "model.answer.truncated"


def test_cut_off_usage_block_after_fix_is_ignored():
    answer = f"```python\n{PUSH_FIXED}```\n\nUsage:\n\n```python\nstack = Stack()\nstack.push(1)\n"
    result = _map(answer)
    assert result.ok
    assert result.replaced == ["Stack.push"]


def test_async_method_replaced():
    original = "class Client:\n    async def fetch(self):\n        return await self.get(1)\n"
    path = os.path.join(ROOT, "client.py")
    answer = "```python\nasync def fetch(self):\n    return await self.get(2)\n```\n"
    result = map_fix(parse_answer(answer), sources={path: original}, target_file=path, root=ROOT)
    assert result.edits == {path: "class Client:\n    async def fetch(self):\n        return await self.get(2)\n"}
    assert result.replaced == ["Client.fetch"]


def test_japanese_reason_with_fields():
    answer = "```python\ndef pop(self):\n    return self.items.pop(-1)\n```\n"
    result = _map(answer, locale="ja")
    assert result.reason == translate("model.answer.ambiguous", "ja", name="pop", count=2,
                                      places="stack.py:Stack.pop, stack.py:Queue.pop")
    assert "メソッド" in result.reason


def test_invented_file_name_is_ignored():
    answer = f"```python\n# solution.py\n{PUSH_FIXED}\n\ndef _unused():\n    return 0\n```\n"
    result = _map(answer)
    assert result.ok
    assert list(result.edits) == [STACK_PATH]
    assert result.replaced == ["Stack.push"]
