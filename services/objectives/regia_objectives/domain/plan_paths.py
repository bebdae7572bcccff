"""Where something is in a plan file: a path such as `nodes[1].children[0].needs.2031`,
and the line it starts on, so that every problem can be found in an editor."""

from dataclasses import dataclass, field

Loc = tuple[str | int, ...]  # keys and indexes from the document's root, as pydantic reports them

ROOT = "plan"  # how the document itself is named in a problem


@dataclass
class Locator:
    """Built while walking the YAML: the line of every value, and which values are lists
    (an int in a path is a list index there, and a mapping key such as a year elsewhere)."""

    lines: dict[Loc, int] = field(default_factory=dict)
    sequences: set[Loc] = field(default_factory=set)

    def where(self, loc: Loc) -> str:
        text = ""
        for depth, part in enumerate(loc):
            if part == "[key]":  # pydantic's marker for a refused mapping key: the path is the key's
                continue
            if isinstance(part, int) and loc[:depth] in self.sequences:
                text += f"[{part}]"
            else:
                text += f".{part}" if text else str(part)
        return text or ROOT

    def line(self, loc: Loc) -> int | None:
        """The line of the deepest value on the path that the file has (a missing field is
        reported at the line of the mapping it is missing from)."""
        for end in range(len(loc), -1, -1):
            if loc[:end] in self.lines:
                return self.lines[loc[:end]]
        return None

    def at(self, loc: Loc, message: str) -> tuple[str, str]:
        """(where, message) with the line appended, ready for a Problem."""
        line = self.line(loc)
        return self.where(loc), f"{message} (line {line})" if line is not None else message
