"""Answer shapes that models produce, read and mapped onto real QuixBugs programs.

Each case is an answer written here by hand, in one of the shapes models use. The test
parses it, checks what the user reads (the reasoning), and maps the fix onto the task's
buggy program: a usable fix must make the program correct and leave every byte outside
the replaced definitions as it was; an unusable one must say why.
"""

import textwrap
from dataclasses import dataclass
from typing import Callable

import pytest
from hypothesis import given, settings, strategies as st

from answer_helpers import (assert_only_definitions_changed, available, buggy, load, program_path,
                            task_sources, ROOT)
from tracefix.server.i18n import translate
from tracefix.server.model.answer import parse_answer
from tracefix.server.model.fixmap import map_fix

# The table below reads the buggy programs when the module is imported.
if not available():
    pytest.skip("QuixBugs tasks are not staged here", allow_module_level=True)


def _text(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


# Checks that pass only on a correct program; `test_checks_fail_on_buggy_programs`
# shows that each one catches the original bug.
CHECKS: dict[str, Callable] = {
    "gcd": lambda m: m.gcd(35, 21) == 7 and m.gcd(17, 0) == 17 and m.gcd(3, 12) == 3,
    "bucketsort": lambda m: m.bucketsort([3, 1, 2, 1, 0], 4) == [0, 1, 1, 2, 3],
    "sqrt": lambda m: abs(m.sqrt(2, 0.01) - 2 ** 0.5) <= 0.01,
    "is_valid_parenthesization": lambda m: (m.is_valid_parenthesization("((()()))()")
                                            and not m.is_valid_parenthesization("((())")),
    "pascal": lambda m: m.pascal(5) == [[1], [1, 1], [1, 2, 1], [1, 3, 3, 1], [1, 4, 6, 4, 1]],
    "flatten": lambda m: list(m.flatten([[1, [], [2, 3]], [[4]], 5])) == [1, 2, 3, 4, 5],
    "get_factors": lambda m: m.get_factors(100) == [2, 2, 5, 5] and m.get_factors(101) == [101],
    "hanoi": lambda m: m.hanoi(2) == [(1, 2), (1, 3), (2, 3)],
    "max_sublist_sum": lambda m: m.max_sublist_sum([4, -5, 2, 1, -1, 3]) == 5,
    "lcs_length": lambda m: m.lcs_length("witch", "sandwich") == 2 and m.lcs_length("meow", "homeowner") == 4,
    "levenshtein": lambda m: m.levenshtein("electron", "neutron") == 3,
    "possible_change": lambda m: m.possible_change([1, 5, 10, 25], 11) == 4,
    "kheapsort": lambda m: list(m.kheapsort([3, 2, 1, 5, 4], 2)) == [1, 2, 3, 4, 5],
    "shunting_yard": lambda m: m.shunting_yard([4, "+", 9, "*", 9, "-", 10, "+", 13]) == [
        4, 9, 9, "*", "+", 10, "-", 13, "+"],
    "find_first_in_sorted": lambda m: (m.find_first_in_sorted([3, 4, 5, 5, 5, 5, 6], 5) == 2
                                       and m.find_first_in_sorted([3, 4, 5, 5, 5, 5, 6], 7) == -1),
    "powerset": lambda m: sorted(m.powerset(["a", "b"])) == [[], ["a"], ["a", "b"], ["b"]],
    "next_permutation": lambda m: m.next_permutation([3, 2, 4, 1]) == [3, 4, 1, 2],
}

# The buggy sqrt never leaves its loop, so its check cannot run on the original.
HANGS_WHEN_BUGGY = {"sqrt"}


@dataclass
class Case:
    id: str
    task: str
    answer: str
    replaced: tuple[str, ...] = ()  # a usable fix replaces these; empty means unusable
    added: tuple[str, ...] = ()
    reason_key: str = ""  # the message key of an unusable answer
    reason_has: tuple[str, ...] = ()
    reasoning_has: tuple[str, ...] = ()
    reasoning_lacks: tuple[str, ...] = ()
    truncated: bool = False
    cut_off: bool = False
    crlf: bool = False


GCD_FIXED = _text("""
    def gcd(a, b):
        if b == 0:
            return a
        else:
            return gcd(b, a % b)
    """)

CASES = [
    Case("python fence after reasoning", "gcd", _text(f"""
        The recursive call passes `a % b` as the first argument and keeps `b`, so
        `b` never shrinks and the recursion never reaches `b == 0`.

        Fixed code:

        ```python
        {textwrap.indent(GCD_FIXED, "        ").strip()}
        ```

        Now `gcd(35, 21)` calls `gcd(21, 14)`, `gcd(14, 7)` and returns 7.
        """),
         replaced=("gcd",), reasoning_has=("`b` never shrinks", "returns 7"),
         reasoning_lacks=("gcd(b, a % b)", "Fixed code:")),
    Case("think section then py fence", "gcd", _text("""
        <think>
        The trace shows gcd(35, 21) calling gcd(14, 21), then gcd(14, 21) again: the
        arguments never change. Euclid's algorithm needs gcd(b, a % b).
        </think>
        The arguments of the recursive call are swapped.

        ```py
        def gcd(a, b):
            if b == 0:
                return a
            else:
                return gcd(b, a % b)
        ```
        """),
         replaced=("gcd",), reasoning_has=("Euclid's algorithm", "arguments of the recursive call are swapped"),
         reasoning_lacks=("<think>", "</think>", "```")),
    Case("untagged fence", "flatten", _text("""
        The base case yields `flatten(x)`, a generator object, instead of the element.

        ```
        def flatten(arr):
            for x in arr:
                if isinstance(x, list):
                    for y in flatten(x):
                        yield y
                else:
                    yield x
        ```
        """),
         replaced=("flatten",), reasoning_has=("a generator object",), reasoning_lacks=("yield x",)),
    Case("tilde fence", "get_factors", _text("""
        When no divisor up to the square root exists, `n` itself is prime and is its
        only factor, but the code returns an empty list.

        ~~~python
        def get_factors(n):
            if n == 1:
                return []

            for i in range(2, int(n ** 0.5) + 1):
                if n % i == 0:
                    return [i] + get_factors(n // i)

            return [n]
        ~~~
        """),
         replaced=("get_factors",), reasoning_has=("is prime",), reasoning_lacks=("return [n]", "~~~")),
    Case("capitalized Python tag", "hanoi", _text("""
        The middle step must move the largest disk from `start` to `end`, not to the helper peg.

        ```Python
        def hanoi(height, start=1, end=3):
            steps = []
            if height > 0:
                helper = ({1, 2, 3} - {start} - {end}).pop()
                steps.extend(hanoi(height - 1, start, helper))
                steps.append((start, end))
                steps.extend(hanoi(height - 1, helper, end))

            return steps
        ```
        """),
         replaced=("hanoi",), reasoning_has=("largest disk",), reasoning_lacks=("(start, end))",)),
    Case("python3 tag and usage block", "max_sublist_sum", _text("""
        Kadane's algorithm resets the running sum when it drops below zero; this version never does.

        ```python3
        def max_sublist_sum(arr):
            max_ending_here = 0
            max_so_far = 0

            for x in arr:
                max_ending_here = max(0, max_ending_here + x)
                max_so_far = max(max_so_far, max_ending_here)

            return max_so_far
        ```

        Example:

        ```python
        print(max_sublist_sum([4, -5, 2, 1, -1, 3]))  # 5
        ```
        """),
         replaced=("max_sublist_sum",), reasoning_has=("Kadane", "print(max_sublist_sum([4, -5, 2, 1, -1, 3]))"),
         reasoning_lacks=("max(0, max_ending_here + x)",)),
    Case("fence inside numbered list", "lcs_length", _text("""
        1. The update reads `dp[i - 1, j]`, which lets `t` stand still while `s` advances.
        2. A common substring extends the diagonal cell instead:

           ```python
           def lcs_length(s, t):
               from collections import Counter

               dp = Counter()

               for i in range(len(s)):
                   for j in range(len(t)):
                       if s[i] == t[j]:
                           dp[i, j] = dp[i - 1, j - 1] + 1

               return max(dp.values()) if dp else 0
           ```

        3. Now a run grows only when both strings advance together.
        """),
         replaced=("lcs_length",), reasoning_has=("1. The update reads", "3. Now a run grows"),
         reasoning_lacks=("dp[i - 1, j - 1] + 1",)),
    Case("buggy code quoted before fix", "levenshtein", _text("""
        The current code is:

        ```python
        def levenshtein(source, target):
            if source == '' or target == '':
                return len(source) or len(target)

            elif source[0] == target[0]:
                return 1 + levenshtein(source[1:], target[1:])

            else:
                return 1 + min(
                    levenshtein(source,     target[1:]),
                    levenshtein(source[1:], target[1:]),
                    levenshtein(source[1:], target)
                )
        ```

        Matching first characters cost nothing, so that branch must not add 1:

        ```python
        def levenshtein(source, target):
            if source == '' or target == '':
                return len(source) or len(target)

            elif source[0] == target[0]:
                return levenshtein(source[1:], target[1:])

            else:
                return 1 + min(
                    levenshtein(source,     target[1:]),
                    levenshtein(source[1:], target[1:]),
                    levenshtein(source[1:], target)
                )
        ```
        """),
         replaced=("levenshtein",),
         reasoning_has=("The current code is:", "return 1 + levenshtein(source[1:], target[1:])",
                        "must not add 1"),
         reasoning_lacks=("elif source[0] == target[0]:\n        return levenshtein",)),
    Case("whole module with main guard", "possible_change", _text("""
        With no coins left and a positive total, `first, *rest = coins` fails. Return 0 there.

        ```python
        # Python 3
        def possible_change(coins, total):
            if total == 0:
                return 1
            if total < 0 or not coins:
                return 0

            first, *rest = coins
            return possible_change(coins, total - first) + possible_change(rest, total)


        if __name__ == "__main__":
            print(possible_change([1, 5, 10, 25], 11))  # 4
        ```
        """),
         replaced=("possible_change",), reasoning_has=("Return 0 there.",), reasoning_lacks=("not coins",)),
    Case("fenced unified diff", "bucketsort", _text("""
        The second loop enumerates `arr` instead of the counts.

        ```diff
        --- a/bucketsort.py
        +++ b/bucketsort.py
        @@ -5,6 +5,6 @@ def bucketsort(arr, k):
         
             sorted_arr = []
        -    for i, count in enumerate(arr):
        +    for i, count in enumerate(counts):
                 sorted_arr.extend([i] * count)
         
             return sorted_arr
        ```
        """),
         replaced=("bucketsort",), reasoning_has=("enumerates `arr`",), reasoning_lacks=("enumerate(counts)", "+++")),
    Case("bare diff with wrong line numbers", "bucketsort", _text("""
        Use the counts in the second loop:

        --- a/bucketsort.py
        +++ b/bucketsort.py
        @@ -41,3 +41,3 @@
             sorted_arr = []
        -    for i, count in enumerate(arr):
        +    for i, count in enumerate(counts):
                 sorted_arr.extend([i] * count)

        - The first loop was already right.
        """),
         replaced=("bucketsort",), reasoning_has=("Use the counts", "- The first loop was already right."),
         reasoning_lacks=("enumerate(counts)",)),
    Case("bare diff without a/ b/ prefixes", "shunting_yard", _text("""
        Operators are popped but the current one is never pushed onto the stack.

        --- shunting_yard.py
        +++ shunting_yard.py
        @@ -15,6 +15,7 @@
                 else:
                     while opstack and precedence[token] <= precedence[opstack[-1]]:
                         rpntokens.append(opstack.pop())
        +            opstack.append(token)
         
             while opstack:
                 rpntokens.append(opstack.pop())
        """),
         replaced=("shunting_yard",), reasoning_has=("never pushed",), reasoning_lacks=("opstack.append(token)",)),
    Case("patch tag with hunks only", "kheapsort", _text("""
        The first k elements are already in the heap, so the loop must start after them.

        ```patch
        @@ -6,7 +6,7 @@
             heapq.heapify(heap)

        -    for x in arr:
        +    for x in arr[k:]:
                 yield heapq.heappushpop(heap, x)
        ```
        """),
         replaced=("kheapsort",), reasoning_has=("start after them",), reasoning_lacks=("arr[k:]",)),
    Case("marker line without fences", "sqrt", _text("""
        The loop compares x with approx instead of with approx squared, so it never stops.

        Fixed code:

        def sqrt(x, epsilon):
            approx = x / 2
            while abs(x - approx ** 2) > epsilon:
                approx = 0.5 * (approx + x / approx)
            return approx

        With this change the loop ends once approx squared is within epsilon of x.
        """),
         replaced=("sqrt",), reasoning_has=("never stops", "With this change"),
         reasoning_lacks=("approx ** 2", "Fixed code:")),
    Case("japanese marker without fences", "is_valid_parenthesization", _text("""
        ループの後で depth が 0 かどうかを確認していないため、"((" のように開き括弧が残っていても True を返します。

        修正後のコード:

        def is_valid_parenthesization(parens):
            depth = 0
            for paren in parens:
                if paren == '(':
                    depth += 1
                else:
                    depth -= 1
                    if depth < 0:
                        return False

            return depth == 0

        これで、すべての括弧が閉じている場合だけ True になります。
        """),
         replaced=("is_valid_parenthesization",), reasoning_has=("開き括弧が残っていても", "これで、"),
         reasoning_lacks=("depth == 0", "修正後のコード")),
    Case("crlf answer", "pascal", _text("""
        Row r has r + 1 entries, but `range(0, r)` builds only r of them.

        ```python
        def pascal(n):
            rows = [[1]]
            for r in range(1, n):
                row = []
                for c in range(0, r + 1):
                    upleft = rows[r - 1][c - 1] if c > 0 else 0
                    upright = rows[r - 1][c] if c < r else 0
                    row.append(upleft + upright)
                rows.append(row)

            return rows
        ```
        """),
         replaced=("pascal",), reasoning_has=("r + 1 entries",), reasoning_lacks=("range(0, r + 1)", "\r"), crlf=True),
    Case("think then fence, search bounds", "find_first_in_sorted", _text("""
        <think>
        hi starts at len(arr) and the loop runs while lo <= hi, so mid can become
        len(arr) and arr[mid] raises IndexError. With a half-open range the loop must
        stop at lo == hi.
        </think>
        The loop must run while `lo < hi`.

        ```python
        def find_first_in_sorted(arr, x):
            lo = 0
            hi = len(arr)

            while lo < hi:
                mid = (lo + hi) // 2

                if x == arr[mid] and (mid == 0 or x != arr[mid - 1]):
                    return mid

                elif x <= arr[mid]:
                    hi = mid

                else:
                    lo = mid + 1

            return -1
        ```
        """),
         replaced=("find_first_in_sorted",), reasoning_has=("half-open range", "`lo < hi`"),
         reasoning_lacks=("while lo < hi:",)),
    Case("closing think tag only", "powerset", _text("""
        powerset(rest) already lists the subsets without `first`; the code drops them
        and keeps only those with `first`.
        </think>

        ```python
        def powerset(arr):
            if arr:
                first, *rest = arr
                rest_subsets = powerset(rest)
                return rest_subsets + [[first] + subset for subset in rest_subsets]
            else:
                return [[]]
        ```
        """),
         replaced=("powerset",), reasoning_has=("drops them",), reasoning_lacks=("</think>", "rest_subsets +")),
    Case("code indented as a whole", "next_permutation", _text("""
        - The inner search must find the first element larger than `perm[i]`:
            ```python
              def next_permutation(perm):
                  for i in range(len(perm) - 2, -1, -1):
                      if perm[i] < perm[i + 1]:
                          for j in range(len(perm) - 1, i, -1):
                              if perm[i] < perm[j]:
                                  next_perm = list(perm)
                                  next_perm[i], next_perm[j] = perm[j], perm[i]
                                  next_perm[i + 1:] = reversed(next_perm[i + 1:])
                                  return next_perm
            ```
        """),
         replaced=("next_permutation",), reasoning_has=("larger than `perm[i]`",),
         reasoning_lacks=("if perm[i] < perm[j]:",)),
    Case("two-space indentation", "gcd", _text("""
        Swap the arguments of the recursive call.

        ```python
        def gcd(a, b):
          if b == 0:
            return a
          else:
            return gcd(b, a % b)
        ```
        """),
         replaced=("gcd",), reasoning_has=("Swap the arguments",)),
    Case("new helper before the fix", "gcd", _text("""
        An iterative version avoids deep recursion.

        ```python
        def _euclid_step(a, b):
            return b, a % b


        def gcd(a, b):
            while b:
                a, b = _euclid_step(a, b)
            return a


        def main():
            print(gcd(35, 21))
        ```
        """),
         replaced=("gcd",), added=("_euclid_step",), reasoning_has=("avoids deep recursion",),
         reasoning_lacks=("_euclid_step",)),
    Case("later block overrides a draft", "gcd", _text("""
        A first attempt:

        ```python
        def gcd(a, b):
            if b == 0:
                return a
            else:
                return gcd(a, a % b)
        ```

        Wait, that keeps `a`, which loops forever as well. The remainder must become the second argument:

        ```python
        def gcd(a, b):
            if b == 0:
                return a
            else:
                return gcd(b, a % b)
        ```
        """),
         replaced=("gcd",), reasoning_has=("gcd(a, a % b)", "loops forever"), reasoning_lacks=("gcd(b, a % b)",)),
    Case("cut off after the code", "gcd", _text("""
        ```python
        def gcd(a, b):
            if b == 0:
                return a
            else:
                return gcd(b, a % b)
        ```

        This works because the remainder is always smaller than
        """),
         replaced=("gcd",), cut_off=True, truncated=True, reasoning_has=("always smaller than",)),
    Case("cut off inside the code", "gcd", _text("""
        The arguments are swapped.

        ```python
        def gcd(a, b):
            if b == 0:
                return a
            else:
        """),
         reason_key="model.answer.truncated", truncated=True, reasoning_has=("The arguments are swapped.",)),
    Case("cut off while thinking", "gcd", _text("""
        <think>
        gcd(35, 21) calls gcd(14, 21), which calls gcd(14, 21) again, so the
        """),
         reason_key="model.answer.cut_off", truncated=True, reasoning_has=("gcd(35, 21) calls",)),
    Case("syntax error in fix", "gcd", _text("""
        ```python
        def gcd(a, b):
            if b == 0
                return a
            return gcd(b, a % b)
        ```
        """),
         reason_key="model.answer.syntax_error", reason_has=("line 2", "if b == 0")),
    Case("prose only", "gcd", _text("""
        The recursion passes the remainder as the first argument. Swapping the two
        arguments of the recursive call fixes it.
        """),
         reason_key="model.answer.no_code", reasoning_has=("Swapping the two",)),
    Case("unchanged code", "gcd", "I see no bug:\n\n```python\n" + buggy("gcd").split('\n"""')[0].strip() + "\n```\n",
         reason_key="model.answer.no_change", reason_has=("gcd",)),
    Case("usage code only", "gcd", _text("""
        Try it:

        ```python
        print(gcd(35, 21))
        assert gcd(17, 0) == 17
        ```
        """),
         reason_key="model.answer.usage_only", reasoning_has=("print(gcd(35, 21))",)),
    Case("fragment without definition", "gcd", _text("""
        Change the last line to:

        ```python
                return gcd(b, a % b)
        ```
        """),
         reason_key="model.answer.fragment", reason_has=("return gcd(b, a % b)",)),
    Case("edit of the test", "gcd", _text("""
        The expected value in the test is wrong.

        ```python
        @pytest.mark.parametrize("input_data,expected", CASES)
        def test_gcd(input_data, expected):
            assert gcd(*input_data) in (expected, None)
        ```
        """),
         reason_key="model.answer.test_edit", reason_has=("test_gcd.py",)),
    Case("diff that does not match", "bucketsort", _text("""
        ```diff
        --- a/bucketsort.py
        +++ b/bucketsort.py
        @@ -1,3 +1,3 @@
        -    for i, count in enumerate(values):
        +    for i, count in enumerate(counts):
        ```
        """),
         reason_key="model.answer.diff_mismatch", reason_has=("bucketsort.py", "enumerate(values)")),
]


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_answer_shape(case: Case):
    answer = case.answer.replace("\n", "\r\n") if case.crlf else case.answer
    parsed = parse_answer(answer, cut_off=case.cut_off)
    assert parsed.truncated == case.truncated
    for fragment in case.reasoning_has:
        assert fragment in parsed.reasoning
    for fragment in case.reasoning_lacks:
        assert fragment not in parsed.reasoning

    sources = task_sources(case.task)
    path = program_path(case.task)
    result = map_fix(parsed, sources=sources, target_file=path, root=ROOT)
    if not case.replaced:
        assert not result.ok
        assert result.edits == {}
        assert result.reason_key == case.reason_key
        for fragment in case.reason_has:
            assert fragment in result.reason
        return

    assert result.reason == ""
    assert result.ok
    assert list(result.edits) == [path]
    assert result.replaced == list(case.replaced)
    assert result.added == list(case.added)
    new_text = result.edits[path]
    assert_only_definitions_changed(sources[path], new_text, list(case.replaced), list(case.added))
    assert CHECKS[case.task](load(new_text, case.task))


def test_table_has_enough_shapes():
    assert len(CASES) >= 25
    assert len({case.id for case in CASES}) == len(CASES)


@pytest.mark.parametrize("task", sorted(set(CHECKS) - HANGS_WHEN_BUGGY))
def test_checks_fail_on_buggy_programs(task):
    module = load(buggy(task), task)
    try:
        correct = CHECKS[task](module)
    except Exception:  # RecursionError, IndexError, ValueError: the bug shows as a crash
        correct = False
    assert not correct


def test_block_offsets_point_into_crlf_answer():
    answer = "Reason.\r\n\r\n```Python\r\ndef f():\r\n    return 1\r\n```\r\nDone.\r\n"
    block = parse_answer(answer).blocks[0]
    assert answer[block.start:block.start + 9] == "```Python"
    assert answer[block.end:] == "Done.\r\n"
    assert block.language == "python"
    assert block.kind == "python"
    assert block.text == "def f():\n    return 1\n"
    assert block.complete


def test_block_kinds_from_tags_and_content():
    answer = _text("""
        ```console
        $ pytest
        ```

        ```
        @@ -1 +1 @@
        -x = 1
        +x = 2
        ```

        ```python:src/calc.py
        x = 2
        ```

        ```
        7
        ```
        """)
    blocks = parse_answer(answer).blocks
    assert [block.kind for block in blocks] == ["other", "diff", "python", "other"]
    assert [block.language for block in blocks] == ["console", "", "python", ""]
    assert blocks[2].path_hint == "src/calc.py"


def test_unclosed_fence_is_incomplete():
    parsed = parse_answer("Fix:\n```python\ndef f():\n    return 1\n")
    assert parsed.truncated
    assert [block.complete for block in parsed.blocks] == [False]
    assert parsed.blocks[0].text == "def f():\n    return 1\n"


def test_think_drafts_give_way_to_final_code():
    answer = _text("""
        <think>
        Draft:
        ```python
        def f():
            return 0
        ```
        </think>
        ```python
        def f():
            return 1
        ```
        """)
    parsed = parse_answer(answer)
    assert [block.text for block in parsed.blocks] == ["def f():\n    return 1\n"]
    assert "return 0" in parsed.reasoning
    assert "return 1" not in parsed.reasoning


def test_japanese_reason_for_unusable_answer():
    parsed = parse_answer("説明だけです。コードはありません。")
    result = map_fix(parsed, sources=task_sources("gcd"), target_file=program_path("gcd"), root=ROOT,
                     locale="ja")
    assert result.reason == translate("model.answer.no_code", "ja")
    assert "コード" in result.reason


# Lines from which the property test builds answers of arbitrary, mostly broken, shape.
ANSWER_LINES = [
    "```python", "```", "~~~", "```diff", "   ```py", "<think>", "</think>", "Fixed code:",
    "修正後のコード:", "def gcd(a, b):", "    if b == 0:", "        return a", "    return gcd(b, a % b)",
    "        return gcd(a % b, b)", "class Stack:", "    def push(self, x):", "--- a/gcd.py",
    "+++ b/gcd.py", "@@ -1,5 +1,5 @@", "-        return gcd(a % b, b)", "+        return gcd(b, a % b)",
    " def gcd(a, b):", "print(gcd(1, 2))", "", "  ", "The bug is here.", "- a bullet", "\t", "@decorator",
]


@given(lines=st.lists(st.sampled_from(ANSWER_LINES), max_size=30), crlf=st.booleans(), cut_off=st.booleans())
@settings(max_examples=300, deadline=None)
def test_any_answer_maps_without_raising(lines, crlf, cut_off):
    answer = ("\r\n" if crlf else "\n").join(lines)
    parsed = parse_answer(answer, cut_off=cut_off)
    for block in parsed.blocks:
        assert 0 <= block.start <= block.end <= len(answer)
    result = map_fix(parsed, sources=task_sources("gcd"), target_file=program_path("gcd"), root=ROOT)
    assert result.ok == (result.reason == "")
    for text in result.edits.values():
        compile(text, "gcd.py", "exec")
