"""The configurator's rule engine: pure, no database. Given a trim snapshot and chosen codes, a Quote.

The engine never drops or changes a choice. Every broken rule becomes a RuleBreak naming the options
involved; the lines price what can be priced, and the total is always the sum of the lines.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from forecourt.catalog.language import in_language, is_english
from forecourt.core.money import Money

# A buyer chooses exactly one of each of these kinds (the models' OptionKind values).
CHOICE_GROUPS = ("paint", "interior", "wheels")
KIND_ORDER = {"trim": 0, "paint": 1, "interior": 2, "wheels": 3, "package": 4, "option": 5}
STANDARD, OPTIONAL, UNAVAILABLE = "standard", "optional", "unavailable"
REQUIRES, EXCLUDES = "requires", "excludes"


class BreakCode:
    UNKNOWN_OPTION = "unknown_option"
    UNAVAILABLE_ON_TRIM = "unavailable_on_trim"
    DUPLICATE_OPTION = "duplicate_option"
    CHOOSE_ONE = "choose_one"
    INCLUDED_IN_PACKAGE = "included_in_package"
    REQUIRES = "requires"
    EXCLUDES = "excludes"


@dataclass(frozen=True, slots=True)
class OptionEntry:
    """One option as offered on one trim, with its price in the snapshot's price list."""

    code: str
    kind: str
    name: str
    name_en: str = ""
    availability: str = OPTIONAL
    # None when the price list has no price for it: then it cannot be sold (unless standard).
    price_fen: int | None = None
    includes: tuple[str, ...] = ()
    swatch_hex: str = ""
    description: str = ""
    description_en: str = ""

    @property
    def display_name(self) -> str:
        return in_language(self.name, self.name_en)

    @property
    def display_description(self) -> str:
        return in_language(self.description, self.description_en)

    @property
    def price(self) -> Money | None:
        """What choosing it adds: nothing when standard, its list price when optional."""
        if self.availability == STANDARD:
            return Money.zero()
        return None if self.price_fen is None else Money(self.price_fen)

    @property
    def is_offered(self) -> bool:
        if self.availability == STANDARD:
            return True
        return self.availability == OPTIONAL and self.price_fen is not None


@dataclass(frozen=True, slots=True)
class RuleEntry:
    kind: str
    option: str
    other: str


@dataclass(frozen=True)
class TrimSnapshot:
    """Everything the engine needs about one trim under one price list."""

    trim_code: str
    trim_name: str
    trim_name_en: str
    base_price_fen: int
    price_list_version: int
    # In display order. Options not listed for the trim are unavailable on it.
    options: tuple[OptionEntry, ...]
    rules: tuple[RuleEntry, ...] = ()
    # Every option code in the catalogue with its (Chinese, English) names, to tell "unknown" from
    # "not on this trim" and to name options in messages.
    catalogue: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    currency: str = "CNY"
    # Indexes built once per snapshot (snapshots are cached, quotes are not).
    by_code: Mapping[str, OptionEntry] = field(init=False, repr=False, compare=False)
    rank: Mapping[str, int] = field(init=False, repr=False, compare=False)
    sort_keys: Mapping[str, tuple[int, int, str]] = field(init=False, repr=False, compare=False)
    offered_by_kind: Mapping[str, tuple[str, ...]] = field(init=False, repr=False, compare=False)
    standard_codes: tuple[str, ...] = field(init=False, repr=False, compare=False)
    # Priced lines are immutable, so each is built once per snapshot and shared by every quote.
    _lines: dict[tuple[str, str, str], QuoteLine] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_lines", {})
        options = self.options
        object.__setattr__(self, "by_code", {entry.code: entry for entry in options})
        object.__setattr__(self, "rank", {entry.code: index for index, entry in enumerate(options)})
        object.__setattr__(
            self,
            "sort_keys",
            {
                entry.code: (KIND_ORDER.get(entry.kind, len(KIND_ORDER)), index, entry.code)
                for index, entry in enumerate(options)
            },
        )
        offered: dict[str, list[str]] = {}
        for entry in options:
            if entry.is_offered:
                offered.setdefault(entry.kind, []).append(entry.code)
        object.__setattr__(self, "offered_by_kind", {kind: tuple(codes) for kind, codes in offered.items()})
        # Standard items are fitted whether chosen or not (choice groups excepted: one is chosen).
        object.__setattr__(
            self,
            "standard_codes",
            tuple(e.code for e in options if e.availability == STANDARD and e.kind not in CHOICE_GROUPS),
        )

    def line(self, code: str, basis: str, package: str = "") -> QuoteLine:
        """The line for an option fitted on this basis (chosen, standard, included in `package`)."""
        key = (code, basis, package)
        line = self._lines.get(key)
        if line is None:
            entry = self.by_code.get(code)
            names = (entry.name, entry.name_en) if entry else self.catalogue.get(code, (code, ""))
            kind = entry.kind if entry else "option"
            if basis == "chosen":
                assert entry is not None and entry.price_fen is not None  # offered options have a price
                price = Money(entry.price_fen, self.currency)
            else:
                price = Money.zero(self.currency)
            line = self._lines[key] = QuoteLine(code, names[0], names[1], kind, price, basis, package)
        return line

    def base_line(self) -> QuoteLine:
        key = (self.trim_code, "base", "")
        line = self._lines.get(key)
        if line is None:
            line = self._lines[key] = QuoteLine(
                self.trim_code,
                self.trim_name,
                self.trim_name_en,
                "trim",
                Money(self.base_price_fen, self.currency),
                "base",
            )
        return line

    def sort_key(self, code: str) -> tuple[int, int, str]:
        """Display order: trim, paint, interior, wheels, packages, options; unknown codes last."""
        return self.sort_keys.get(code) or (len(KIND_ORDER), 0, code)

    def option_name(self, code: str) -> str:
        entry = self.by_code.get(code)
        if entry is not None:
            return in_language(entry.name, entry.name_en)
        names = self.catalogue.get(code)
        return in_language(*names) if names else code


@dataclass(frozen=True, slots=True)
class RuleBreak:
    code: str
    message: str
    options: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "options": list(self.options)}


@dataclass(frozen=True, slots=True)
class QuoteLine:
    """A priced line. `basis` says why it is there: base, chosen, standard or included (in `package`)."""

    code: str
    name: str
    name_en: str
    kind: str
    price: Money
    basis: str = "chosen"
    package: str = ""

    @property
    def display_name(self) -> str:
        return in_language(self.name, self.name_en)

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "name": self.display_name, "price": self.price.as_dict()}

    def as_record(self) -> dict[str, Any]:
        """The stored form kept by a saved configuration."""
        return {
            "code": self.code,
            "name": self.name,
            "name_en": self.name_en,
            "kind": self.kind,
            "basis": self.basis,
            "package": self.package,
            "price_fen": self.price.amount,
        }

    @classmethod
    def from_record(cls, record: Mapping[str, Any], currency: str = "CNY") -> QuoteLine:
        return cls(
            code=record["code"],
            name=record["name"],
            name_en=record.get("name_en", ""),
            kind=record.get("kind", ""),
            price=Money(int(record["price_fen"]), currency),
            basis=record.get("basis", "chosen"),
            package=record.get("package", ""),
        )


@dataclass(frozen=True)
class Quote:
    trim_code: str
    option_codes: tuple[str, ...]
    valid: bool
    errors: tuple[RuleBreak, ...]
    lines: tuple[QuoteLine, ...]
    total: Money
    price_list_version: int

    def as_dict(self) -> dict[str, Any]:
        """The published API shape of a quote (names and messages in the active language)."""
        english = is_english()
        return {
            "valid": self.valid,
            "errors": [error.as_dict() for error in self.errors],
            "lines": [
                {
                    "code": line.code,
                    "name": line.name_en if english and line.name_en else line.name,
                    "price": {"amount": line.price.amount, "currency": line.price.currency},
                }
                for line in self.lines
            ],
            "total": self.total.as_dict(),
            "price_list_version": self.price_list_version,
        }

    def errors_for(self, code: str) -> list[RuleBreak]:
        """The rule breaks that name an option (for showing a message next to that choice)."""
        return [error for error in self.errors if code in error.options]


def _join(names: Iterable[str]) -> str:
    # Translators: the separator between option names in a list ("、" in Chinese).
    return pgettext("list of option names", ", ").join(names)


def _choose_one_message(kind: str, chosen: Sequence[str]) -> str:
    if not chosen:
        return {
            "paint": _("Choose a paint."),
            "interior": _("Choose an interior."),
            "wheels": _("Choose a set of wheels."),
        }[kind]
    names = _join(chosen)
    return {
        "paint": _("Choose only one paint; you chose %(options)s.") % {"options": names},
        "interior": _("Choose only one interior; you chose %(options)s.") % {"options": names},
        "wheels": _("Choose only one set of wheels; you chose %(options)s.") % {"options": names},
    }[kind]


def quote(snapshot: TrimSnapshot, option_codes: Sequence[str]) -> Quote:
    """Check the chosen codes against the trim's rules and price them. Order of codes is irrelevant."""
    name = snapshot.option_name
    by_code = snapshot.by_code
    order = snapshot.sort_key

    counts = Counter(option_codes)
    chosen_all = sorted(counts, key=order)
    errors: list[RuleBreak] = []

    for code in chosen_all:
        if counts[code] > 1:
            errors.append(
                RuleBreak(
                    BreakCode.DUPLICATE_OPTION,
                    _("%(option)s was chosen more than once.") % {"option": name(code)},
                    (code,),
                )
            )
    chosen: list[str] = []
    for code in chosen_all:
        entry = by_code.get(code)
        if entry is None and code not in snapshot.catalogue:
            errors.append(
                RuleBreak(
                    BreakCode.UNKNOWN_OPTION,
                    _("“%(option)s” is not an option we offer.") % {"option": code},
                    (code,),
                )
            )
        elif entry is None or not entry.is_offered:
            message = _("%(option)s is not available on %(trim)s.") % {
                "option": name(code),
                "trim": in_language(snapshot.trim_name, snapshot.trim_name_en),
            }
            errors.append(RuleBreak(BreakCode.UNAVAILABLE_ON_TRIM, message, (code,)))
        else:
            chosen.append(code)
    chosen_set = set(chosen)

    for kind in CHOICE_GROUPS:
        offered = snapshot.offered_by_kind.get(kind)
        if not offered:
            continue
        picked = [code for code in chosen if by_code[code].kind == kind]
        if len(picked) != 1:
            errors.append(
                RuleBreak(
                    BreakCode.CHOOSE_ONE,
                    _choose_one_message(kind, [name(code) for code in picked]),
                    tuple(picked or offered),
                )
            )

    # Standard items are fitted whether chosen or not; choosing one again is harmless, not an error.
    standard_set = set(snapshot.standard_codes)
    packages = [
        code for code in sorted(chosen_set | standard_set, key=order) if by_code[code].kind == "package"
    ]
    included_by: dict[str, str] = {}
    for package in packages:
        for member in by_code[package].includes:
            included_by.setdefault(member, package)

    for code in chosen:
        if code in standard_set:
            continue
        for package in packages:
            # Paying for a member of a chosen package would charge twice: explain, never drop it.
            bought = package in chosen_set and package not in standard_set
            if bought and package != code and code in by_code[package].includes:
                message = _("%(option)s is already included in %(package)s; remove one of them.") % {
                    "option": name(code),
                    "package": name(package),
                }
                errors.append(RuleBreak(BreakCode.INCLUDED_IN_PACKAGE, message, (code, package)))

    effective = chosen_set | standard_set | set(included_by)
    excluded_pairs: set[frozenset[str]] = set()
    rule_breaks: list[tuple[tuple[Any, ...], RuleBreak]] = []
    for rule in snapshot.rules:
        if rule.option not in effective:
            continue
        if rule.kind == REQUIRES and rule.other not in effective:
            message = _("%(option)s requires %(other)s.") % {
                "option": name(rule.option),
                "other": name(rule.other),
            }
            key = (0, order(rule.option), order(rule.other))
            rule_breaks.append((key, RuleBreak(BreakCode.REQUIRES, message, (rule.option, rule.other))))
        elif rule.kind == EXCLUDES and rule.other in effective:
            pair = frozenset((rule.option, rule.other))
            first, second = sorted(pair, key=order)
            if pair in excluded_pairs:
                continue
            excluded_pairs.add(pair)
            message = _("%(option)s cannot be combined with %(other)s.") % {
                "option": name(first),
                "other": name(second),
            }
            key = (1, order(first), order(second))
            rule_breaks.append((key, RuleBreak(BreakCode.EXCLUDES, message, (first, second))))
    errors.extend(rule_break for _key, rule_break in sorted(rule_breaks, key=lambda item: item[0]))

    lines = _price_lines(snapshot, chosen_set, standard_set, included_by)
    return Quote(
        trim_code=snapshot.trim_code,
        option_codes=tuple(sorted(counts)),
        valid=not errors,
        errors=tuple(errors),
        lines=tuple(lines),
        total=Money(sum(line.price.amount for line in lines), snapshot.currency),
        price_list_version=snapshot.price_list_version,
    )


def _price_lines(
    snapshot: TrimSnapshot, chosen_set: set[str], standard_set: set[str], included_by: dict[str, str]
) -> list[QuoteLine]:
    order = snapshot.sort_key
    by_code = snapshot.by_code
    keyed: list[tuple[tuple[Any, ...], QuoteLine]] = []
    for code in chosen_set | standard_set:
        package = included_by.get(code, "")
        if by_code[code].availability == STANDARD:
            line = snapshot.line(code, "standard")
        elif package in standard_set:
            # Chosen, but a standard package already fits it: nothing to pay, nothing to explain.
            line = snapshot.line(code, "included", package)
        else:
            line = snapshot.line(code, "chosen")
        keyed.append((order(code), line))
    for code, package in included_by.items():
        if code not in chosen_set and code not in standard_set:
            # Listed right after the package that brings it, at no extra cost.
            keyed.append(((*order(package), 1, code), snapshot.line(code, "included", package)))
    keyed.sort(key=lambda item: item[0])
    return [snapshot.base_line(), *(line for _key, line in keyed)]


def default_choices(snapshot: TrimSnapshot) -> list[str]:
    """A valid starting point: the first no-cost paint, interior and wheels (else the first offered)."""
    chosen = []
    for kind in CHOICE_GROUPS:
        offered = [snapshot.by_code[code] for code in snapshot.offered_by_kind.get(kind, ())]
        standard = [entry for entry in offered if entry.availability == STANDARD]
        if offered:
            chosen.append((standard or offered)[0].code)
    return chosen


def quote_from_record(
    *,
    trim_code: str,
    option_codes: Sequence[str],
    lines: Sequence[Mapping[str, Any]],
    total_fen: int,
    price_list_version: int,
    currency: str = "CNY",
) -> Quote:
    """Rebuild a saved quote exactly as it was given (saved quotes were valid when saved)."""
    return Quote(
        trim_code=trim_code,
        option_codes=tuple(option_codes),
        valid=True,
        errors=(),
        lines=tuple(QuoteLine.from_record(line, currency) for line in lines),
        total=Money(int(total_fen), currency),
        price_list_version=price_list_version,
    )
