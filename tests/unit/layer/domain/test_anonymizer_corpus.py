"""What leaks: the anonymizer against 80+ labelled French project descriptions (anonymizer_corpus.yaml).

Goals (issue 15): 100 % recall on emails, phones, IBAN and SIRET; ≥ 95 % on names and addresses; precision high
enough that the trade vocabulary survives (every decoy of the corpus is kept). `make bench-anonymizer` prints the
same figures per detector with timings (docs/benchmarks.md).
"""

from __future__ import annotations

from typing import Any

import pytest

from aimanager.domain.anonymizer import ProjectAnonymizer
from tests.unit.layer.domain.anonymizer_corpus import Report, load_corpus, score

SAMPLES = load_corpus()


@pytest.fixture(scope="module")
def report() -> Report:
    return score(SAMPLES, lambda s: ProjectAnonymizer(s.known).anonymize_text(s.text))


def test_the_corpus_is_fifty_labelled_descriptions_or_more() -> None:
    assert len(SAMPLES) >= 50
    assert len({s.trade for s in SAMPLES}) >= 20
    assert sum(len(s.planted) for s in SAMPLES) >= 300 and sum(len(s.decoys) for s in SAMPLES) >= 300


@pytest.mark.parametrize("kind", ["EMAIL", "TELEPHONE", "IBAN", "SIRET"])
def test_no_email_phone_iban_or_siret_leaks(report: Report, kind: str) -> None:
    score_ = report.kinds[kind]
    assert score_.planted > 0
    assert score_.recall == 1.0, [leak for leak in report.leaks if f": {kind} " in leak]


@pytest.mark.parametrize("kind", ["PERSONNE", "ENTREPRISE", "ADRESSE", "CODE_POSTAL", "SIREN", "TVA", "IP"])
def test_names_and_addresses_recall_at_least_95_percent(report: Report, kind: str) -> None:
    assert report.kinds[kind].recall >= 0.95, [leak for leak in report.leaks if f": {kind} " in leak]


def test_every_detector_is_precise(report: Report) -> None:
    for kind, score_ in report.kinds.items():
        assert score_.precision >= 0.95, (kind, report.false_positives)


def test_construction_vocabulary_survives(report: Report) -> None:
    # Given the decoys of the corpus (Carrelage Porcelanosa 60x60, colle Weber flex, placo BA13, m², prices...)
    # Then none of them is touched by a replacement
    assert report.decoys >= 300
    assert report.decoys_lost == []


def test_the_corpus_as_structured_data_leaks_nothing_more() -> None:
    # Given each description inside a pre-quote, and split into chat messages, anonymized in one call per project
    for sample in SAMPLES:
        project: dict[str, Any] = {
            "description": sample.text,
            "messages": [{"role": "user", "content": line} for line in sample.text.splitlines()],
            "pre_quote": {"items": [{"label": d.value, "quantity": 1} for d in sample.decoys]},
        }
        out = ProjectAnonymizer(sample.known).anonymize_data(project).data
        # Then no planted value is left in the description or in any message, and every decoy label is intact
        joined = out["description"] + "\n" + "\n".join(m["content"] for m in out["messages"])
        for span in sample.planted:
            if len(span.value) >= 4:
                assert span.value not in joined, (sample.id, span)
        assert out["pre_quote"] == project["pre_quote"], sample.id
