"""Split a model's answer into the reasoning the user reads and the code blocks it proposes.

Models answer "reason step by step, then give the corrected code" in many shapes: fenced
blocks with ``` or ~~~ (tagged or not, indented inside list items), unified diffs with or
without a fence, bare code after a line such as "Fixed code:", `<think>` sections, CRLF
newlines, and answers cut off by the token limit. `parse_answer` accepts all of them and
never raises; deciding which block is the fix and mapping it onto the files is
`fixmap`'s job.
"""

from __future__ import annotations

import ast
import re
import textwrap
from dataclasses import dataclass, field

PYTHON_TAGS = frozenset({"python", "py", "python3", "py3"})
DIFF_TAGS = frozenset({"diff", "patch", "udiff"})

_FENCE_OPEN = re.compile(
    r"^(?P<indent>[ \t]*(?:(?:[-*+]|\d{1,9}[.)])[ \t]+)?)(?P<fence>`{3,}|~{3,})(?P<info>.*)$")
_FENCE_CLOSE = re.compile(r"^[ \t]*(?P<fence>`{3,}|~{3,})[ \t]*$")
_DEFINITION = re.compile(r"^(?:async[ \t]+)?(?:def|class)[ \t]+(\w+)", re.MULTILINE)
_HUNK_HEADER = re.compile(r"^@@ -\d+(?:,\d+)? \+\d+(?:,\d+)? @@")
_PATH_HINT_COMMENT = re.compile(r"^#\s*(?:file(?:name)?\s*:\s*)?(?P<path>[\w./\\-]+\.py)\s*$", re.IGNORECASE)
_PATH_HINT_INFO = re.compile(r"(?:title|file|filename|path)=[\"']?(?P<path>[^\"'\s]+\.py)", re.IGNORECASE)

# A line that introduces the fixed code, in English or Japanese, as a sentence ending in a
# colon or as a markdown heading: "Fixed code:", "**Corrected function**:",
# "修正後のコードは以下の通りです：", "### Fixed version".
_MARKER = re.compile(
    r"^[ \t]*(?:(?:[-*+]|\d{1,9}[.)])[ \t]+)?(?P<heading>#{1,6}[ \t]*)?(?:\*\*|__)?[ \t]*[^\n:：.。`]{0,24}?"
    r"(?:(?:fixed|corrected|repaired|updated|patched|modified)\s+(?:python\s+)?"
    r"(?:code|version|function|method|program|implementation|module|file)"
    r"|fix|solution|修正)"
    r"[^\n:：.。`]{0,40}?(?:\*\*|__)?[ \t]*(?P<colon>[:：])?[ \t]*(?:\*\*|__)?[ \t]*$",
    re.IGNORECASE)

# Lines at column 0 that can continue or start unfenced Python code. Prose such as
# "For example, ..." never matches because Python keywords are lowercase.
_CODE_START = re.compile(r"^(?:(?:async[ \t]+)?def[ \t]+\w|class[ \t]+\w|@\w|import[ \t]+\w"
                         r"|from[ \t]+[\w.]+[ \t]+import[ \t])")
_CODE_LINE = re.compile(
    r"^(?:(?:if|elif|else|for|while|try|except|finally|with|def|class|async)\b.*:[ \t]*(?:#.*)?$"
    r"|(?:return|raise|assert|import|from|pass|break|continue|del|global|nonlocal|yield)\b"
    r"|[A-Za-z_][\w.]*(?:\[[^\]]*\])?[ \t]*(?:=|\+=|-=|\*=|/=|//=|%=|\|=|&=)(?!=)"
    r"|[A-Za-z_][\w.]*\("
    r"|@\w|#|[)\]}]|\"\"\"|''')")


@dataclass(frozen=True)
class CodeBlock:
    """A piece of code in an answer, fenced or not."""

    text: str  # the code with LF newlines, without the fence's own indentation
    language: str  # the fence's tag as written, lowercased, or "" when untagged or unfenced
    kind: str  # "python", "diff" or "other"
    complete: bool  # False when the answer ends inside the block
    start: int  # offset of the block's first character (its opening fence, if any) in the answer
    end: int = 0  # offset just past the block (its closing fence included) in the answer
    fenced: bool = True
    path_hint: str = ""  # a file name the answer gives for the block ("gcd.py"), or ""


@dataclass
class ParsedAnswer:
    """A model answer split into reasoning and code."""

    reasoning: str  # markdown of the answer without its fix code and without `<think>` tags
    blocks: list[CodeBlock] = field(default_factory=list)
    truncated: bool = False  # an unclosed fence or `<think>`, or an answer cut off by its length


def parse_answer(text: str, *, cut_off: bool = False) -> ParsedAnswer:
    """Split `text` into reasoning and code blocks.

    Pass `cut_off=True` when the backend stopped at its token limit (finish reason
    "length"). Then the answer counts as truncated, and so does an unfenced block that
    reaches the end of the text. Offsets in the blocks refer to `text` as given, CRLF
    included.
    """
    normalized = _Normalized(text)
    lines = _Lines(normalized.text)
    think = _think_span(normalized.text)

    fenced = _fenced_blocks(lines)
    covered = [(block.start, block.end) for block in fenced]
    bare = _bare_diffs(lines, covered)
    if not fenced and not bare:
        bare = _bare_code(lines, covered)
    blocks = sorted(fenced + bare, key=lambda block: block.start)

    if cut_off and blocks and not blocks[-1].fenced and blocks[-1].end >= len(normalized.text.rstrip()):
        last = blocks[-1]
        blocks[-1] = CodeBlock(last.text, last.language, last.kind, False, last.start, last.end,
                               last.fenced, last.path_hint)

    # Code drafted inside <think> is used only when the final answer gives none.
    if think is not None and any(block.start >= think[1] for block in blocks):
        blocks = [block for block in blocks if not think[0] <= block.start < think[1]]

    reasoning = _reasoning(normalized.text, blocks)
    truncated = (cut_off or any(not block.complete for block in blocks)
                 or (think is not None and think[2]))
    return ParsedAnswer(
        reasoning=reasoning,
        blocks=[normalized.to_original(block) for block in blocks],
        truncated=truncated,
    )


class _Normalized:
    """The answer with LF newlines and without `<think>` tags, mapped back to the original."""

    def __init__(self, original: str) -> None:
        pieces: list[str] = []
        origins: list[int] = []
        position = 0
        for match in re.finditer(r"\r\n?|</?(?:think|thinking)>", original, re.IGNORECASE):
            pieces.append(original[position:match.start()])
            origins.extend(range(position, match.start()))
            if match.group().startswith("\r"):
                pieces.append("\n")
                origins.append(match.start())
            else:
                # Keep a placeholder so `_think_span` still finds the section's bounds.
                marker = "\x00" if match.group()[1] != "/" else "\x01"
                pieces.append(marker)
                origins.append(match.start())
            position = match.end()
        pieces.append(original[position:])
        origins.extend(range(position, len(original) + 1))
        self.original = original
        self.origins = origins
        self.text = "".join(pieces)

    def to_original(self, block: CodeBlock) -> CodeBlock:
        return CodeBlock(block.text, block.language, block.kind, block.complete,
                         self.origins[block.start], self.origins[min(block.end, len(self.text))],
                         block.fenced, block.path_hint)


class _Lines:
    """The answer's lines with their start offsets."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.items = text.split("\n")
        self.starts = []
        offset = 0
        for line in self.items:
            self.starts.append(offset)
            offset += len(line) + 1

    def end_of(self, index: int) -> int:
        """Offset just past line `index`, its newline included when there is one."""
        return min(self.starts[index] + len(self.items[index]) + 1, len(self.text))


def _think_span(text: str) -> tuple[int, int, bool] | None:
    """Return (start, end, unclosed) of the `<think>` section, if the answer has one.

    Chat templates that open the section in the prompt leave only the closing tag in
    the answer, so a lone closing tag marks everything before it.
    """
    opening = text.find("\x00")
    closing = text.find("\x01")
    if opening < 0 and closing < 0:
        return None
    if closing < 0:
        return opening, len(text), True
    return max(opening, 0) if opening < closing else 0, closing, False


def _fenced_blocks(lines: _Lines) -> list[CodeBlock]:
    blocks: list[CodeBlock] = []
    index = 0
    while index < len(lines.items):
        match = _FENCE_OPEN.match(lines.items[index].replace("\x00", "").replace("\x01", ""))
        fence = match.group("fence") if match else ""
        if not match or (fence[0] == "`" and "`" in match.group("info")):
            index += 1
            continue
        width = len(match.group("indent"))
        body: list[str] = []
        closed_at = None
        for inner in range(index + 1, len(lines.items)):
            closing = _FENCE_CLOSE.match(lines.items[inner])
            if closing and closing.group("fence")[0] == fence[0] and len(closing.group("fence")) >= len(fence):
                closed_at = inner
                break
            body.append(_strip_indent(lines.items[inner], width))
        last = closed_at if closed_at is not None else len(lines.items) - 1
        code = "\n".join(body).strip("\n")
        language, path_hint = _parse_info(match.group("info"))
        blocks.append(CodeBlock(
            text=code + "\n" if code else "",
            language=language,
            kind=_kind(language, code),
            complete=closed_at is not None,
            start=lines.starts[index] + len(match.group("indent")) - len(match.group("indent").lstrip()),
            end=lines.end_of(last),
            path_hint=path_hint or _comment_path_hint(code),
        ))
        index = last + 1
    return blocks


def _strip_indent(line: str, width: int) -> str:
    """Remove up to `width` leading blanks, the indentation of the fence inside a list."""
    removed = 0
    while removed < width and removed < len(line) and line[removed] in " \t":
        removed += 1
    return line[removed:]


def _parse_info(info: str) -> tuple[str, str]:
    """Return (language, path hint) from a fence's info string such as `python title="a.py"`."""
    words = info.strip().split()
    if not words:
        return "", ""
    language = words[0].lower().strip("{}").lstrip(".")
    path_hint = ""
    if ":" in language:
        language, path_hint = language.split(":", 1)
    elif language.endswith(".py"):
        path_hint = words[0].strip("{}")
    hint = _PATH_HINT_INFO.search(info)
    if hint:
        path_hint = hint.group("path")
    return language, path_hint


def _comment_path_hint(code: str) -> str:
    first = code.lstrip("\n").split("\n", 1)[0].strip()
    match = _PATH_HINT_COMMENT.match(first)
    return match.group("path") if match else ""


def _kind(language: str, code: str) -> str:
    """Classify a block by its tag, and an untagged one by its content."""
    if language in DIFF_TAGS:
        return "diff"
    looks_like_diff = _looks_like_diff(code)
    if language in PYTHON_TAGS or language.endswith(".py"):
        # Models sometimes tag a unified diff as python.
        return "diff" if looks_like_diff and not _parses(code) else "python"
    if language:
        return "other"
    if looks_like_diff:
        return "diff"
    if _DEFINITION.search(textwrap.dedent(code)) or _parses_as_statements(code):
        return "python"
    return "other"


def _looks_like_diff(code: str) -> bool:
    lines = code.split("\n")
    if any(_HUNK_HEADER.match(line) for line in lines):
        return True
    return any(line.startswith("--- ") for line in lines) and any(line.startswith("+++ ") for line in lines)


def _parses(code: str) -> bool:
    try:
        ast.parse(textwrap.dedent(code))
    except (SyntaxError, ValueError):
        return False
    return True


def _parses_as_statements(code: str) -> bool:
    """Tell whether untagged text is Python beyond a lone name or number (like "7" or "True")."""
    if code.lstrip().startswith(">>>"):
        return False
    try:
        module = ast.parse(textwrap.dedent(code))
    except (SyntaxError, ValueError):
        return False
    return any(not (isinstance(node, ast.Expr) and isinstance(node.value, (ast.Name, ast.Constant)))
               for node in module.body)


def _bare_diffs(lines: _Lines, covered: list[tuple[int, int]]) -> list[CodeBlock]:
    """Find unified diffs written outside fences: `--- a/x.py`, `+++ b/x.py`, `@@` hunks."""
    blocks: list[CodeBlock] = []
    index = 0
    items = lines.items
    while index < len(items):
        if _inside(lines.starts[index], covered) or not _diff_starts(items, index):
            index += 1
            continue
        first = index
        last = index
        index += 1
        while index < len(items) and not _inside(lines.starts[index], covered):
            line = items[index]
            if _is_diff_line(line):
                last = index
            elif line.strip() != "":
                break
            index += 1
        code = "\n".join(items[first:last + 1]) + "\n"
        blocks.append(CodeBlock(code, "", "diff", True, lines.starts[first], lines.end_of(last), fenced=False))
        index = last + 1
    return blocks


def _diff_starts(items: list[str], index: int) -> bool:
    line = items[index]
    if line.startswith("diff --git ") or _HUNK_HEADER.match(line):
        return True
    return (line.startswith("--- ") and index + 1 < len(items) and items[index + 1].startswith("+++ "))


def _is_diff_line(line: str) -> bool:
    if re.match(r"^(?:diff --git |index |--- |\+\+\+ |@@ |new file mode|deleted file mode|\\ No newline)", line):
        return True
    # "- The fix ..." is a markdown bullet, not a removed line. Python code indented by
    # exactly one space is rare enough to read such a line as prose.
    if re.match(r"^[-+*] \S", line):
        return False
    return line[:1] in (" ", "+", "-")


def _bare_code(lines: _Lines, covered: list[tuple[int, int]]) -> list[CodeBlock]:
    """Find unfenced Python: after a marker line, or starting at a column-0 definition or import."""
    blocks: list[CodeBlock] = []
    items = lines.items
    index = 0
    while index < len(items):
        line = items[index]
        first = None
        if _is_marker(line):
            candidate = index + 1
            while candidate < len(items) and not items[candidate].strip():
                candidate += 1
            if candidate < len(items) and _starts_code(items[candidate], after_marker=True):
                first = candidate
        elif _starts_code(line, after_marker=False):
            first = index
        if first is None or _inside(lines.starts[first], covered):
            index += 1
            continue
        last = _extend_code(items, first)
        code = textwrap.dedent("\n".join(items[first:last + 1])) + "\n"
        index = last + 1
        if _kind("", code) != "python":
            continue  # prose that happens to start like code, such as "import math at the top"
        blocks.append(CodeBlock(code, "", "python", True, lines.starts[first], lines.end_of(last),
                                fenced=False, path_hint=_comment_path_hint(code)))
    return blocks


def _is_marker(line: str) -> bool:
    match = _MARKER.match(line.replace("\x00", "").replace("\x01", ""))
    return bool(match and (match.group("heading") or match.group("colon")))


def _starts_code(line: str, *, after_marker: bool) -> bool:
    if after_marker:
        stripped = line.lstrip()
        return bool(_CODE_START.match(stripped) or _CODE_LINE.match(stripped))
    return bool(_CODE_START.match(line))


def _extend_code(items: list[str], first: int) -> int:
    """Return the last line of the unfenced code that starts at `first`.

    Code continues over blank lines, indented lines and column-0 lines that look like
    Python; a prose line ends it. Trailing column-0 lines that stop the code from
    parsing are dropped, but never lines of an indented body, so a definition with a
    syntax error stays whole and fixmap reports the error.
    """
    base = len(items[first]) - len(items[first].lstrip())
    last = first
    for index in range(first + 1, len(items)):
        line = items[index]
        if not line.strip():
            continue
        indent = len(line) - len(line.lstrip())
        if indent > base or _CODE_LINE.match(line[base:]) or _CODE_START.match(line[base:]):
            last = index
        else:
            break
    while last > first and not _parses("\n".join(items[first:last + 1])):
        tail = items[last]
        if len(tail) - len(tail.lstrip()) > base or tail.lstrip().startswith(("def ", "class ", "@")):
            break
        last -= 1
        while last > first and not items[last].strip():
            last -= 1
    return last


def _inside(offset: int, spans: list[tuple[int, int]]) -> bool:
    return any(start <= offset < end for start, end in spans)


def _reasoning(text: str, blocks: list[CodeBlock]) -> str:
    """Return the answer without its fix blocks, and without the lines that announce them.

    Two kinds of Python block stay, because they are part of the explanation: a block
    whose definitions are all given again later (the buggy code quoted before the fixed
    one, or a draft), and a block of usage code.
    """
    removed = [block for position, block in enumerate(blocks) if _is_fix_block(block, blocks[position + 1:])]
    pieces: list[str] = []
    position = 0
    for block in removed:
        start = block.start
        line_start = text.rfind("\n", 0, start) + 1
        if not text[line_start:start].strip():
            start = line_start  # the fence's indentation inside a list item goes with it
        before = text[position:start]
        pieces.append(_drop_trailing_marker(before))
        position = block.end
    pieces.append(text[position:])
    reasoning = "".join(pieces).replace("\x00", "\n").replace("\x01", "\n\n")
    reasoning = re.sub(r"[ \t]+\n", "\n", reasoning)
    return re.sub(r"\n{3,}", "\n\n", reasoning).strip()


def _is_fix_block(block: CodeBlock, later: list[CodeBlock]) -> bool:
    if block.kind == "diff":
        return True
    if block.kind != "python":
        return False
    names = set(_DEFINITION.findall(textwrap.dedent(block.text)))
    if not names:
        # Usage code stays; code that does not parse is a broken fix and goes.
        return not _parses(block.text)
    redefined: set[str] = set()
    for other in later:
        if other.kind == "python":
            redefined.update(_DEFINITION.findall(textwrap.dedent(other.text)))
    return not names <= redefined


def _drop_trailing_marker(text: str) -> str:
    """Remove a final "Fixed code:" line from `text`, the prose just before a removed block."""
    stripped = text.rstrip()
    line_start = stripped.rfind("\n") + 1
    last_line = stripped[line_start:]
    if _is_marker(last_line):
        return stripped[:line_start]
    return text
