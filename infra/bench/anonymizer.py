"""`python -m infra.bench.anonymizer [--write docs/benchmarks.md]`: the anonymizer on its labelled corpus.

Prints recall and precision per detector (tests/unit/layer/domain/anonymizer_corpus.yaml), the time to anonymize
one description (warm, and the first call of a fresh interpreter), and what the anonymizer adds to the layer.
`--write` replaces the "## Anonymizer" section of the file (or adds it before "## History").
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

ROOT = Path(__file__).resolve().parents[2]
LAYER = ROOT / "layers" / "common" / "python"

if TYPE_CHECKING:
    from tests.unit.layer.domain.anonymizer_corpus import Report
HEADING = "## Anonymizer (§15.2G): recall and precision on the labelled corpus"

COLD_SNIPPET = """
import json, sys, time
sys.path[:0] = [{layer!r}]
t0 = time.perf_counter()
from aimanager.domain.anonymizer import anonymize_text
t1 = time.perf_counter()
anonymize_text("Bonjour, je suis Jean Martin, 06 12 34 56 78, 12 rue des Lilas 75011 Paris.")
t2 = time.perf_counter()
anonymize_text("Mon frère à Genève : +41 22 345 67 89.")  # the first international number imports phonenumbers
t3 = time.perf_counter()
print(json.dumps({{"import": t1 - t0, "first": t2 - t1, "international": t3 - t2}}))
"""


def _tree_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and "__pycache__" not in p.parts)


@dataclass
class Measure:
    report: Report
    heldout: Report
    trades: int
    per_sample: list[float]  # seconds, best of the runs, one per description
    cold_import: float
    cold_first: float
    cold_international: float
    sizes: dict[str, int]


def measure(runs: int = 5) -> Measure:
    sys.path[:0] = [str(LAYER), str(ROOT)]
    import phonenumbers

    from aimanager.domain.anonymizer import ProjectAnonymizer, lexicon
    from tests.unit.layer.domain.anonymizer_corpus import load_corpus, score

    samples = load_corpus()
    lexicon()
    reports = [score(samples, lambda s: ProjectAnonymizer(s.known).anonymize_text(s.text)) for _ in range(runs)]
    heldout = [s for s in samples if s.split == "heldout"]
    snippet = COLD_SNIPPET.format(layer=str(LAYER))
    cold = [
        json.loads(
            subprocess.run([sys.executable, "-I", "-c", snippet], capture_output=True, text=True, check=True).stdout
        )
        for _ in range(3)
    ]
    domain = LAYER / "aimanager" / "domain"
    return Measure(
        report=reports[0],
        heldout=score(heldout, lambda s: ProjectAnonymizer(s.known).anonymize_text(s.text)),
        trades=len({s.trade for s in samples}),
        per_sample=[min(r.seconds[i] for r in reports) for i in range(len(samples))],
        cold_import=min(c["import"] for c in cold),
        cold_first=min(c["first"] for c in cold),
        cold_international=min(c["international"] for c in cold),
        sizes={
            "phonenumbers (phonenumberslite)": _tree_bytes(Path(phonenumbers.__file__).parent),
            "anonymizer.py and its word lists": _tree_bytes(domain / "data")
            + (domain / "anonymizer.py").stat().st_size,
        },
    )


def _table(report: Report) -> list[str]:
    lines = [
        "| Detector (kind) | planted | recalled | recall | replaced | correct | precision |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    rows = [*report.kinds.items(), ("**all**", report.total())]
    for kind, s in rows:
        lines.append(
            f"| {kind} | {s.planted} | {s.recalled} | {s.recall:.1%} | {s.produced} | {s.correct} | {s.precision:.1%} |"
        )
    return lines


def section(m: Measure) -> list[str]:
    report, heldout, per = m.report, m.heldout, sorted(m.per_sample)
    p95 = per[min(len(per) - 1, round(0.95 * (len(per) - 1)))]
    return [
        HEADING,
        "",
        f"`make bench-anonymizer`. {report.samples} French project descriptions ({m.trades} trades: bathroom, kitchen, "
        f"roof, painting…) with planted personal data, labelled, and {report.decoys} decoys (trade vocabulary, brands, "
        "sizes, prices, references) that must survive. A planted span is recalled when every character of it is "
        "replaced; a replacement is correct when it overlaps a planted span. Decoys touched by a replacement: "
        f"**{len(report.decoys_lost)}**.",
        "",
        *_table(report),
        "",
        f"Held-out part ({heldout.samples} descriptions written after the rules were frozen, since tuned on too): "
        f"recall {heldout.total().recall:.1%}, precision {heldout.total().precision:.1%} now.",
        "",
        f"Time per description (warm, best of 5, {report.chars / report.samples:.0f} characters on average): "
        f"p50 **{statistics.median(per) * 1000:.2f} ms**, p95 {p95 * 1000:.2f} ms, max {per[-1] * 1000:.2f} ms "
        f"({report.chars / sum(per) / 1000:.0f} k characters/s). Fresh interpreter: import {m.cold_import * 1000:.0f} "
        f"ms, first call {m.cold_first * 1000:.0f} ms (word lists loaded once per container), first text with an "
        f"international number {m.cold_international * 1000:.0f} ms more (phonenumbers is imported then, not before).",
        f"Machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at the end of the run (other "
        "suites share these cores: compare figures within one run).",
        "",
        "What it adds to the layer (unzipped): "
        + ", ".join(f"{name} {size / 1e6:.2f} MB" for name, size in m.sizes.items())
        + ". Only the functions that import `aimanager.domain.anonymizer` pay its import.",
    ]


def write_section(path: Path, lines: list[str]) -> None:
    """Replaces this section of `path` (up to the next "## "), else inserts it before "## History" (or at the end)."""
    text = path.read_text() if path.exists() else "# Benchmarks\n"
    block = "\n".join(lines) + "\n\n"
    if HEADING in text:
        start = text.index(HEADING)
        nxt = text.find("\n## ", start + len(HEADING))
        text = text[:start] + block + (text[nxt + 1 :] if nxt != -1 else "")
    elif "\n## History" in text:
        at = text.index("\n## History") + 1
        text = text[:at] + block + text[at:]
    else:
        text = text.rstrip("\n") + "\n\n" + block
    path.write_text(text.rstrip("\n") + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.bench.anonymizer")
    parser.add_argument("--write", help="replace the anonymizer section of this Markdown file")
    args = parser.parse_args(argv)
    m = measure()
    lines = section(m)
    print("\n".join(lines))
    for title, items in (("Leaks", m.report.leaks), ("False positives", m.report.false_positives)):
        if items:
            print(f"\n{title}:\n" + "\n".join(items))
    if args.write:
        write_section(Path(args.write), lines)
    return 0


if __name__ == "__main__":
    sys.exit(main())
