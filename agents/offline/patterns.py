"""Strings that match a JSON-Schema ``pattern``, drawn from the parsed regular expression.

Schemas for tools constrain codes and clock times with patterns such as ``^[A-Z]{1,5}$`` or
``^([01][0-9]|2[0-3]):[0-5][0-9]$``. A small parser of the common regex subset (literals,
escapes, classes, ``.``, repeats, groups, alternation, back-references, anchors) builds a tree
that is drawn from the seeded generator; Python's own regex parser is private, so it is not
used. Anything else (look-arounds, named groups, flags) is not synthesized: the caller gets
None, as it does when a drawn string fails the final ``re.search`` check.
"""

from __future__ import annotations

import random
import re
import string
from dataclasses import dataclass, field

_PRINTABLE = string.ascii_letters + string.digits + " -_.,"
_ESCAPES = {
    "d": string.digits,
    "D": string.ascii_letters,
    "s": " ",
    "S": string.ascii_letters + string.digits,
    "w": string.ascii_letters + string.digits + "_",
    "W": " -.,",
}
_CONTROL = {"n": "\n", "t": "\t", "r": "\r", "f": "\f", "v": "\v"}
_ZERO_WIDTH = {"b", "B", "A", "Z"}
_OPEN_REPEAT_EXTRA = 3  # how far past the minimum an open-ended repeat (*, +, {n,}) may go


class _Unsupported(Exception):
    pass


@dataclass
class _Node:
    """One piece of the pattern: ``kind`` is lit, set, seq, alt, group, repeat, ref or empty."""

    kind: str
    chars: str = ""
    items: list[_Node] = field(default_factory=list)
    group: int | None = None
    low: int = 0
    high: int | None = None


class _Parser:
    def __init__(self, pattern: str) -> None:
        self.text = pattern
        self.at = 0
        self.groups = 0

    def peek(self) -> str:
        return self.text[self.at] if self.at < len(self.text) else ""

    def take(self) -> str:
        if self.at >= len(self.text):
            raise _Unsupported("pattern ends early")
        self.at += 1
        return self.text[self.at - 1]

    def parse(self) -> _Node:
        node = self.alternation()
        if self.at != len(self.text):
            raise _Unsupported(f"unexpected {self.peek()!r}")
        return node

    def alternation(self) -> _Node:
        branches = [self.sequence()]
        while self.peek() == "|":
            self.take()
            branches.append(self.sequence())
        return branches[0] if len(branches) == 1 else _Node("alt", items=branches)

    def sequence(self) -> _Node:
        items: list[_Node] = []
        while self.peek() not in ("", "|", ")"):
            items.append(self.repeat(self.atom()))
        return _Node("seq", items=items)

    def atom(self) -> _Node:
        char = self.take()
        if char == "(":
            group: int | None = None
            if self.text.startswith("?:", self.at):
                self.at += 2
            elif self.peek() == "?":
                raise _Unsupported("look-around or named group")
            else:
                self.groups += 1
                group = self.groups
            inner = self.alternation()
            if self.take() != ")":
                raise _Unsupported("unclosed group")
            return _Node("group", items=[inner], group=group)
        if char == "[":
            return self.char_class()
        if char == ".":
            return _Node("set", chars=string.ascii_letters)
        if char in "^$":
            return _Node("empty")
        if char == "\\":
            return self.escape()
        if char in "*+?{":
            raise _Unsupported("nothing to repeat")
        return _Node("lit", chars=char)

    def escape(self) -> _Node:
        char = self.take()
        if char.isdigit() and char != "0":
            return _Node("ref", group=int(char))
        if char in _ESCAPES:
            return _Node("set", chars=_ESCAPES[char])
        if char in _ZERO_WIDTH:
            return _Node("empty")
        return _Node("lit", chars=_CONTROL.get(char, char))

    def char_class(self) -> _Node:
        negate = self.peek() == "^"
        if negate:
            self.take()
        allowed: set[str] = set()
        first = True
        while first or self.peek() != "]":
            first = False
            start = self.class_char()
            if self.peek() == "-" and self.text[self.at + 1 : self.at + 2] not in ("]", ""):
                self.take()
                end = self.class_char()
                if len(start) != 1 or len(end) != 1 or ord(end) < ord(start):
                    raise _Unsupported("bad range")
                allowed.update(chr(code) for code in range(ord(start), ord(end) + 1))
            else:
                allowed.update(start)
        self.take()
        choices = sorted(set(_PRINTABLE) - allowed) if negate else sorted(allowed)
        if not choices:
            raise _Unsupported("empty character class")
        return _Node("set", chars="".join(choices))

    def class_char(self) -> str:
        char = self.take()
        if char != "\\":
            return char
        char = self.take()
        return _ESCAPES.get(char) or _CONTROL.get(char, char)

    def repeat(self, node: _Node) -> _Node:
        char = self.peek()
        if char in ("*", "+", "?"):
            self.take()
            low, high = {"*": (0, None), "+": (1, None), "?": (0, 1)}[char]
        elif char == "{" and (bounds := re.match(r"\{(\d+)(,(\d*))?\}", self.text[self.at :])):
            self.at += bounds.end()
            low = int(bounds.group(1))
            high = low if bounds.group(2) is None else int(bounds.group(3)) if bounds.group(3) else None
        else:
            return node
        if self.peek() in ("?", "+"):  # lazy or possessive: the same strings match
            self.take()
        return _Node("repeat", items=[node], low=low, high=high)


def string_matching(pattern: str, rng: random.Random) -> str | None:
    """A string that ``re.search(pattern, ...)`` accepts, or None if none could be drawn."""
    try:
        re.compile(pattern)
        text = _emit(_Parser(pattern).parse(), rng, {})
    except (re.error, _Unsupported):
        return None
    return text if re.search(pattern, text) else None


def _emit(node: _Node, rng: random.Random, groups: dict[int, str]) -> str:
    if node.kind == "lit":
        return node.chars
    if node.kind == "set":
        return rng.choice(node.chars)
    if node.kind == "seq":
        return "".join(_emit(item, rng, groups) for item in node.items)
    if node.kind == "alt":
        return _emit(rng.choice(node.items), rng, groups)
    if node.kind == "group":
        text = _emit(node.items[0], rng, groups)
        if node.group is not None:
            groups[node.group] = text
        return text
    if node.kind == "repeat":
        high = node.low + _OPEN_REPEAT_EXTRA if node.high is None else node.high
        return "".join(_emit(node.items[0], rng, groups) for _ in range(rng.randint(node.low, high)))
    if node.kind == "ref":
        return groups.get(node.group or 0, "")
    return ""
