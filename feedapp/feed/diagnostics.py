"""Per-build diagnostics: counts and a few examples per problem, so no item is dropped silently."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

#: Examples kept per problem code; enough to act on, small enough for the store record.
MAX_EXAMPLES = 50
_NAME_LIMIT = 150
_DETAIL_LIMIT = 300
_SEVERITY_RANK = {"error": 0, "warning": 1}


class Problem(Protocol):
    """One finding of the mapping about one product, variant or item."""

    code: str
    severity: str
    product_id: Any
    variant_id: Any
    item_id: Any
    product_name: Any
    detail: Any


class MappedProduct(Protocol):
    """What mapping one product yields: the items to write and what was wrong."""

    items: Sequence[object]
    problems: Sequence[Problem]
    offers: int


def _text(value: Any, limit: int | None = None) -> str | None:
    if value is None:
        return None
    text = str(value)
    return text if limit is None else text[:limit]


@dataclass
class ProblemStats:
    """How often one problem code occurred in a build, with the first few cases."""

    code: str
    severity: str
    count: int = 0
    examples: list[dict[str, str | None]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "code": self.code,
            "severity": self.severity,
            "count": self.count,
            "examples": [dict(e) for e in self.examples],
        }


class BuildDiagnostics:
    """Accumulates what one build saw in bounded memory, however large the catalogue."""

    def __init__(self, max_examples: int = MAX_EXAMPLES) -> None:
        self.max_examples = max_examples
        self.products = 0
        self.items_written = 0
        self.items_left_out = 0
        self._codes: dict[str, ProblemStats] = {}

    def add(self, mapped: MappedProduct) -> None:
        """Record one mapped product: its items count as written, its error cases as left out."""
        self.products += 1
        self.items_written += len(mapped.items)
        left_out = set()
        for problem in mapped.problems:
            self._record(problem)
            if problem.severity == "error":
                left_out.add((_text(problem.variant_id), _text(problem.item_id)))
        # A product-level error (disabled, no name...) leaves out every variant it stands for.
        self.items_left_out += max(len(left_out), mapped.offers - len(mapped.items))

    def _record(self, problem: Problem) -> None:
        stats = self._codes.get(problem.code)
        if stats is None:
            stats = self._codes[problem.code] = ProblemStats(problem.code, problem.severity)
        elif problem.severity == "error":
            stats.severity = "error"
        stats.count += 1
        if len(stats.examples) < self.max_examples:
            stats.examples.append(
                {
                    "product_id": _text(problem.product_id),
                    "variant_id": _text(problem.variant_id),
                    "item_id": _text(problem.item_id),
                    "product_name": _text(problem.product_name, _NAME_LIMIT),
                    "detail": _text(problem.detail, _DETAIL_LIMIT),
                }
            )

    @property
    def problems(self) -> list[ProblemStats]:
        """Problem codes, errors first, then the most frequent, then by code."""
        return sorted(
            self._codes.values(),
            key=lambda s: (_SEVERITY_RANK.get(s.severity, 2), -s.count, s.code),
        )

    @property
    def errors(self) -> int:
        """Problems of error severity, each of which left an item out."""
        return sum(s.count for s in self._codes.values() if s.severity == "error")

    @property
    def warnings(self) -> int:
        """Problems the merchant should fix although the item was still written."""
        return sum(s.count for s in self._codes.values() if s.severity != "error")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form with a stable order, for the store record in Redis."""
        return {
            "products": self.products,
            "items_written": self.items_written,
            "items_left_out": self.items_left_out,
            "errors": self.errors,
            "warnings": self.warnings,
            "max_examples": self.max_examples,
            "problems": [s.to_dict() for s in self.problems],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> BuildDiagnostics:
        """Rebuild from a stored dict; missing keys read as empty so old records still load."""
        data = data or {}
        diagnostics = cls(int(data.get("max_examples", MAX_EXAMPLES)))
        diagnostics.products = int(data.get("products", 0))
        diagnostics.items_written = int(data.get("items_written", 0))
        diagnostics.items_left_out = int(data.get("items_left_out", 0))
        for entry in data.get("problems", []):
            stats = ProblemStats(
                code=str(entry["code"]),
                severity=str(entry.get("severity", "error")),
                count=int(entry.get("count", 0)),
                examples=[dict(e) for e in entry.get("examples", [])],
            )
            diagnostics._codes[stats.code] = stats
        return diagnostics
