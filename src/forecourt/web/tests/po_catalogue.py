"""A small reader for gettext .po files, enough to check that a catalogue is complete (no polib needed)."""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Entry:
    msgid: str = ""
    msgctxt: str | None = None
    msgid_plural: str | None = None
    msgstrs: dict[int, str] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)
    references: list[str] = field(default_factory=list)

    @property
    def is_header(self) -> bool:
        return self.msgid == "" and self.msgctxt is None

    @property
    def is_fuzzy(self) -> bool:
        return "fuzzy" in self.flags

    @property
    def is_translated(self) -> bool:
        return bool(self.msgstrs) and all(text.strip() for text in self.msgstrs.values())

    def label(self) -> str:
        where = f" ({', '.join(self.references[:2])})" if self.references else ""
        context = f"[{self.msgctxt}] " if self.msgctxt is not None else ""
        return f"{context}{self.msgid!r}{where}"


def _unquote(text: str) -> str:
    # A .po string is a C string literal; Python's literal syntax reads the same escapes.
    text = text.strip()
    if not (text.startswith('"') and text.endswith('"')):
        raise ValueError(f"not a quoted .po string: {text!r}")
    return str(ast.literal_eval(text))


def parse_po(text: str) -> list[Entry]:
    """Every live entry of a catalogue (obsolete `#~` entries are left out), header included."""
    entries: list[Entry] = []
    entry = Entry()
    started = False
    # Which string a continuation line ("...") extends: ("msgid",) / ("msgstr", n) / ...
    target: tuple[str, int] | tuple[str] | None = None

    def finish() -> None:
        nonlocal entry, started, target
        if started:
            entries.append(entry)
        entry, started, target = Entry(), False, None

    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            finish()
            continue
        if line.startswith("#~"):
            continue
        if line.startswith("#,"):
            if started and target is not None and target[0] == "msgstr":
                finish()
            entry.flags.update(flag.strip() for flag in line[2:].split(",") if flag.strip())
            continue
        if line.startswith("#:"):
            if started and target is not None and target[0] == "msgstr":
                finish()
            entry.references.extend(line[2:].split())
            continue
        if line.startswith("#"):
            continue
        keyword, _, rest = line.partition(" ")
        if line.startswith('"'):
            if target is None:
                raise ValueError(f"continuation line outside an entry: {raw!r}")
            value = _unquote(line)
            if target[0] == "msgstr":
                index = target[1]  # type: ignore[misc]
                entry.msgstrs[index] = entry.msgstrs.get(index, "") + value
            elif target[0] == "msgid":
                entry.msgid += value
            elif target[0] == "msgid_plural":
                entry.msgid_plural = (entry.msgid_plural or "") + value
            elif target[0] == "msgctxt":
                entry.msgctxt = (entry.msgctxt or "") + value
            continue
        if keyword in ("msgctxt", "msgid") and started and target is not None and target[0] == "msgstr":
            finish()
        started = True
        if keyword == "msgctxt":
            entry.msgctxt, target = _unquote(rest), ("msgctxt",)
        elif keyword == "msgid":
            entry.msgid, target = _unquote(rest), ("msgid",)
        elif keyword == "msgid_plural":
            entry.msgid_plural, target = _unquote(rest), ("msgid_plural",)
        elif keyword == "msgstr":
            entry.msgstrs[0], target = _unquote(rest), ("msgstr", 0)
        elif keyword.startswith("msgstr[") and keyword.endswith("]"):
            index = int(keyword[len("msgstr[") : -1])
            entry.msgstrs[index], target = _unquote(rest), ("msgstr", index)
        else:
            raise ValueError(f"unexpected .po line: {raw!r}")
    finish()
    return entries


def read_po(path: Path) -> list[Entry]:
    return parse_po(path.read_text(encoding="utf-8"))


def incomplete_entries(entries: list[Entry]) -> list[Entry]:
    """Entries a reader would see untranslated: empty (any plural form) or marked fuzzy."""
    return [entry for entry in entries if not entry.is_header and (entry.is_fuzzy or not entry.is_translated)]
