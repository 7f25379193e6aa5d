"""The complaint NLP benchmark script builds its text mix (the timed runs are not tests)."""

from __future__ import annotations

import importlib.util

from cxpipe.settings import REPO_ROOT


def test_benchmark_texts_are_distinct_and_mixed() -> None:
    spec = importlib.util.spec_from_file_location("complaint_nlp", REPO_ROOT / "benchmarks" / "complaint_nlp.py")
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    texts = bench.texts(3000, None)
    assert len(texts) == len(set(texts)) == 3000
    assert any("Lieferung" in t for t in texts) and any("快" in t for t in texts)
