"""The labelled corpus of French project descriptions (`anonymizer_corpus.yaml`) and how the anonymizer is scored.

Shared by the corpus test (which asserts the goals) and `python -m infra.bench.anonymizer` (which prints and
records the figures). A planted span is recalled when every character of it was replaced (by any detector: what
counts is that it no longer reaches the master); a replacement is correct when it overlaps a planted span; a decoy
is lost when any replacement touches it.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from aimanager.domain.anonymizer import KINDS, Anonymized, KnownIdentities, Replacement

CORPUS = Path(__file__).with_name("anonymizer_corpus.yaml")
_MARK = re.compile(r"\{\{(?P<kind>[A-Z_]+):(?P<value>.+?)\}\}|<<(?P<decoy>.+?)>>", re.DOTALL)


@dataclass(frozen=True)
class Planted:
    kind: str
    start: int
    end: int
    value: str


@dataclass(frozen=True)
class Sample:
    id: str
    trade: str
    text: str
    planted: tuple[Planted, ...]
    decoys: tuple[Planted, ...]
    known: KnownIdentities
    split: str  # "dev" (the rules were tuned on it) or "heldout" (written after; first-run figures in the docs)


def parse(marked: str) -> tuple[str, list[Planted], list[Planted]]:
    """Plain text, planted spans and decoy spans of a marked-up description."""
    out: list[str] = []
    planted: list[Planted] = []
    decoys: list[Planted] = []
    cursor = length = 0
    for m in _MARK.finditer(marked):
        out.append(marked[cursor : m.start()])
        length += m.start() - cursor
        value = m.group("value") if m.group("kind") else m.group("decoy")
        target = planted if m.group("kind") else decoys
        target.append(Planted(m.group("kind") or "DECOY", length, length + len(value), value))
        out.append(value)
        length += len(value)
        cursor = m.end()
    out.append(marked[cursor:])
    return "".join(out), planted, decoys


def load_corpus(path: Path = CORPUS) -> list[Sample]:
    samples = []
    for entry in yaml.safe_load(path.read_text(encoding="utf-8")):
        text, planted, decoys = parse(entry["text"])
        known = entry.get("known") or {}
        samples.append(
            Sample(
                id=entry["id"],
                trade=entry["trade"],
                text=text,
                planted=tuple(planted),
                decoys=tuple(decoys),
                known=KnownIdentities(**{k: tuple(v) for k, v in known.items()}),
                split=entry.get("split", "dev"),
            )
        )
    return samples


@dataclass
class KindScore:
    planted: int = 0
    recalled: int = 0
    produced: int = 0
    correct: int = 0

    @property
    def recall(self) -> float:
        return self.recalled / self.planted if self.planted else 1.0

    @property
    def precision(self) -> float:
        return self.correct / self.produced if self.produced else 1.0


@dataclass
class Report:
    samples: int = 0
    kinds: dict[str, KindScore] = field(default_factory=lambda: {k: KindScore() for k in KINDS})
    leaks: list[str] = field(default_factory=list)  # "sample: KIND 'value'"
    false_positives: list[str] = field(default_factory=list)
    decoys: int = 0
    decoys_lost: list[str] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    chars: int = 0

    def total(self) -> KindScore:
        total = KindScore()
        for score in self.kinds.values():
            total.planted += score.planted
            total.recalled += score.recalled
            total.produced += score.produced
            total.correct += score.correct
        return total


def _covered(span: Planted, replacements: tuple[Replacement, ...]) -> bool:
    chars = set(range(span.start, span.end))
    for r in replacements:
        chars -= set(range(r.start, r.end))
    return not {i for i in chars if not span_char_is_space(span, i)}


def span_char_is_space(span: Planted, index: int) -> bool:
    return span.value[index - span.start].isspace()


def score(samples: list[Sample], anonymize: Callable[[Sample], Anonymized]) -> Report:
    report = Report()
    for sample in samples:
        started = time.perf_counter()
        result = anonymize(sample)
        report.seconds.append(time.perf_counter() - started)
        report.samples += 1
        report.chars += len(sample.text)
        for span in sample.planted:
            kind = report.kinds[span.kind]
            kind.planted += 1
            if _covered(span, result.replacements):
                kind.recalled += 1
            else:
                report.leaks.append(f"{sample.id}: {span.kind} {span.value!r}")
        for r in result.replacements:
            kind = report.kinds[r.kind]
            kind.produced += 1
            if any(r.start < p.end and p.start < r.end for p in sample.planted):
                kind.correct += 1
            else:
                report.false_positives.append(f"{sample.id}: {r.kind} {r.original!r}")
        for decoy in sample.decoys:
            report.decoys += 1
            if any(r.start < decoy.end and decoy.start < r.end for r in result.replacements):
                report.decoys_lost.append(f"{sample.id}: {decoy.value!r}")
    return report
