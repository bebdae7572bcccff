"""YAML read as untrusted input: a plan file comes over HTTP from whoever holds the admin
token, or from a file someone mailed around.

PyYAML's safe loader already refuses Python object tags; on top of it this refuses what a
plan file never needs and an attacker would use: files over a size limit, nesting deep
enough to exhaust the recursive composer, aliases (a few lines of "billion laughs" expand
into exponential work for the validator), tags of any kind and merge keys; and it reports
duplicate keys, which plain PyYAML silently resolves to the last value. It also records
the line of every value, so that problems found later can say where they are.
"""

import yaml
from yaml.composer import Composer
from yaml.constructor import SafeConstructor
from yaml.events import AliasEvent, ScalarEvent
from yaml.nodes import MappingNode, Node, SequenceNode
from yaml.parser import Parser
from yaml.reader import Reader
from yaml.resolver import Resolver
from yaml.scanner import Scanner

try:  # libyaml scans and parses about three times faster; composing stays ours, in Python
    from yaml._yaml import CParser as _FastParser
except ImportError:  # a PyYAML built without libyaml: the same checks, slower
    _FastParser = None

from ...domain.errors import PlanFileInvalid
from ...domain.plan_paths import ROOT, Loc, Locator
from ...domain.tree import Problem

MAX_BYTES = 2 * 1024 * 1024
MAX_DEPTH = 40  # a real plan file nests about 10 deep (4 node kinds, their children, needs)
MERGE_TAG = "tag:yaml.org,2002:merge"
SYNTAX = "yaml"  # the `where` of a problem that has no path because the YAML did not parse


def load(text: str) -> tuple[object, Locator, list[Problem]]:
    """The document's data, where each value is, and the problems that still let it be
    read (duplicate or merge keys). Raises PlanFileInvalid when it cannot be read at all."""
    # Count characters first: never encode a huge hostile string just to measure it.
    if len(text) > MAX_BYTES or len(text.encode("utf-8", "surrogatepass")) > MAX_BYTES:
        raise PlanFileInvalid([Problem(ROOT, f"the file is larger than {MAX_BYTES} bytes")])
    if bad := Reader.NON_PRINTABLE.search(text):
        line, column = _line_column(text, bad.start())
        raise PlanFileInvalid(
            [
                Problem(
                    SYNTAX,
                    f"line {line}, column {column}: the character U+{ord(bad.group()):04X} is not allowed in YAML",
                )
            ]
        )
    loader = None
    try:
        loader = _PlanLoader(text)
        root = loader.get_single_node()
        if root is None:
            raise PlanFileInvalid(
                [
                    Problem(
                        ROOT,
                        "the file is empty: a plan file is a mapping "
                        "with id, title, territory, first_year, last_year and nodes",
                    )
                ]
            )
        locator = Locator()
        problems: list[Problem] = []
        _walk(loader, root, (), locator, problems)
        return loader.construct_document(root), locator, problems
    except PlanFileInvalid:
        raise
    except yaml.MarkedYAMLError as exc:
        raise PlanFileInvalid([Problem(SYNTAX, _marked(exc))]) from None
    except yaml.YAMLError as exc:
        raise PlanFileInvalid([Problem(SYNTAX, str(exc))]) from None
    except (ValueError, TypeError, OverflowError) as exc:  # e.g. a date such as 2031-02-30
        raise PlanFileInvalid([Problem(SYNTAX, f"a value cannot be read: {exc}")]) from None
    finally:
        if loader is not None:
            loader.dispose()


_PARSING = (_FastParser,) if _FastParser else (Reader, Scanner, Parser)


class _PlanLoader(Composer, *_PARSING, SafeConstructor, Resolver):  # type: ignore[misc]  # bases chosen at import (libyaml's parser or PyYAML's): mypy cannot read a starred base list
    """The safe loader, refusing anchors, aliases, tags, complex keys and deep nesting as it
    composes (the composer recurses once per level: refusing first keeps the stack small).
    Composer comes first so that its Python compose_node, which we extend, is the one used
    even over libyaml's parser."""

    def __init__(self, text: str) -> None:
        if _FastParser:
            _FastParser.__init__(self, text)
        else:
            Reader.__init__(self, text)
            Scanner.__init__(self)
            Parser.__init__(self)
        Composer.__init__(self)
        SafeConstructor.__init__(self)
        Resolver.__init__(self)
        self._depth = 0

    def compose_node(self, parent: Node | None, index: object) -> Node:
        event = self.peek_event()
        refusal = None
        if isinstance(event, AliasEvent):
            refusal = f"aliases (*{event.anchor}) are not allowed in a plan file"
        elif event.anchor is not None:
            refusal = f"anchors (&{event.anchor}) are not allowed in a plan file"
        elif getattr(event, "tag", None) is not None:
            refusal = f"tags ({event.tag}) are not allowed in a plan file"
        elif isinstance(parent, MappingNode) and index is None and not isinstance(event, ScalarEvent):
            refusal = "a key must be a plain value, not a list or a mapping"
        elif self._depth >= MAX_DEPTH:
            refusal = f"the file nests deeper than {MAX_DEPTH} levels"
        if refusal:
            raise yaml.MarkedYAMLError(problem=refusal, problem_mark=event.start_mark)
        self._depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def _walk(loader: _PlanLoader, node: Node, loc: Loc, locator: Locator, problems: list[Problem]) -> None:
    locator.lines[loc] = node.start_mark.line + 1
    if isinstance(node, SequenceNode):
        locator.sequences.add(loc)
        for index, item in enumerate(node.value):
            _walk(loader, item, (*loc, index), locator, problems)
    elif isinstance(node, MappingNode):
        seen: set[object] = set()
        for key_node, value_node in node.value:
            line = key_node.start_mark.line + 1
            if key_node.tag == MERGE_TAG:
                problems.append(Problem(locator.where(loc), f"merge keys (<<) are not allowed (line {line})"))
                continue
            key = loader.construct_object(key_node)
            if key in seen:
                problems.append(
                    Problem(locator.where((*loc, key)), f"the key {key!r} appears more than once here (line {line})")
                )
            seen.add(key)
            _walk(loader, value_node, (*loc, key), locator, problems)


def _marked(exc: yaml.MarkedYAMLError) -> str:
    mark = exc.problem_mark or exc.context_mark
    where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
    context = ""
    if exc.context and exc.context_mark:
        context = f" ({exc.context} at line {exc.context_mark.line + 1})"
    elif exc.context:
        context = f" ({exc.context})"
    return f"{where}{exc.problem or 'invalid YAML'}{context}"


def _line_column(text: str, position: int) -> tuple[int, int]:
    return text.count("\n", 0, position) + 1, position - text.rfind("\n", 0, position)
