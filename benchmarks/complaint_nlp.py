"""Throughput and peak memory of the complaint text analysis, against the implementation it replaced.

Usage::

    .venv/bin/python benchmarks/complaint_nlp.py [--texts 20000] [--baseline-texts 2000] [--corpora ../shared/corpora]

Texts: the project corpus (en, zh, ru) plus German, Swedish, Portuguese, Spanish and
French complaints, and the public corpora's texts when present (zh reviews, ru tweets),
all distinct (an order number is appended where the pool runs out), shuffled with a fixed seed.
Each run is a fresh process so peak memory is its own:

* ``cxpipe``: :func:`cxpipe.complaints.analyse_texts` on a frame of ``--texts`` distinct
  texts (language, PII redaction, sentiment, root cause), models trained before the
  clock starts; and the same frame where each text occurs 4 times (dedupe).
* ``baseline``: the per-text keyword implementation cxpipe used before the learned models
  (commit 4b0c636: lingua per text, every keyword tried on every text, lexicon/VADER
  sentiment), loaded from git, on ``--baseline-texts`` of the same texts.

Throughput is texts per CPU-second of the process (all its threads), i.e. per core.
Writes ``benchmarks/results/complaint_nlp.json`` and ``.md``. Not a test: the numbers
depend on the machine and its load.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
BASELINE_COMMIT = "4b0c636"
OTHER_LANGUAGES = [
    "Die Lieferung kommt schon wieder zu spät, niemand meldet sich",
    "Der Schrank kam beschädigt an, die Tür ist gesprungen",
    "Leveransen är försenad och ingen svarar i telefon",
    "Skruvar saknas i paketet och manualen är obegriplig",
    "O pedido não chegou e ninguém responde aos meus e-mails",
    "A mesa chegou quebrada e o reembolso nunca foi feito",
    "El pedido llegó roto y nadie contesta en atención al cliente",
    "Me cobraron dos veces el mismo sofá",
    "La commande est arrivée cassée et le service client ne répond pas",
    "Livraison en retard de trois semaines, inadmissible",
]


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def texts(n: int, corpora: Path | None) -> list[str]:
    sys.path.insert(0, str(REPO / "plugins"))
    from cxpipe.complaints.corpora import load_project_corpus, public_sentiment_rows

    pool = [r["text"] for r in load_project_corpus()] + OTHER_LANGUAGES * 20
    pool += [r["text"] for r in public_sentiment_rows(corpora)]
    rng = random.Random(15)
    out, seen, i = [], set(), 0
    while len(out) < n:
        text = pool[i % len(pool)] + ("" if i < len(pool) else f" #SO-{10000 + i}")
        i += 1
        if text not in seen:
            seen.add(text)
            out.append(text)
    rng.shuffle(out)
    return out


def run_cxpipe(n: int, corpora: Path | None, repeat: int) -> dict[str, object]:
    import pandas as pd

    from cxpipe.complaints import analyse_texts, load_taxonomy

    taxonomy = load_taxonomy(REPO / "dbt_project" / "seeds" / "complaint_taxonomy.csv")
    sample = texts(n, corpora)
    started = time.perf_counter()
    analyse_texts(pd.DataFrame({"complaint_id": ["w"], "complaint_text": ["warm up"]}), taxonomy, corpora_dir=corpora)
    training = time.perf_counter() - started
    body = sample * repeat
    frame = pd.DataFrame({"complaint_id": [str(i) for i in range(len(body))], "complaint_text": body})
    cpu, wall = time.process_time(), time.perf_counter()
    out = analyse_texts(frame, taxonomy, corpora_dir=corpora)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    languages = out["language"].value_counts().to_dict()
    return {
        "rows": len(body),
        "distinct_texts": len(sample),
        "cpu_seconds": round(cpu, 2),
        "wall_seconds": round(wall, 2),
        "texts_per_cpu_second": round(len(body) / cpu),
        "training_seconds": round(training, 1),
        "peak_rss_mb": round(_peak_rss_mb(), 1),
        "languages": {str(k): int(v) for k, v in languages.items()},
    }


def run_baseline(n: int, corpora: Path | None) -> dict[str, object]:
    """The per-text implementation of commit BASELINE_COMMIT, loaded as package ``old_complaints``."""
    root = Path(tempfile.mkdtemp(prefix="cx_old_nlp_"))
    package = root / "old_complaints"
    package.mkdir()
    names = ["__init__.py", "classify.py", "sentiment.py", "text.py", "pipeline.py", "sentiment_lexicon.csv"]
    for name in names:
        source = subprocess.run(
            ["git", "show", f"{BASELINE_COMMIT}:plugins/cxpipe/complaints/{name}"],
            cwd=REPO,
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        if name.endswith(".py"):
            source = source.replace("cxpipe.complaints.", "old_complaints.").replace(
                "from cxpipe.complaints import", "from old_complaints import"
            )
            if name == "__init__.py":
                source = "from old_complaints.pipeline import analyse_texts\n"
        (package / name).write_text(source, encoding="utf-8")
    sys.path.insert(0, str(root))
    import pandas as pd
    from old_complaints import analyse_texts  # type: ignore[import-not-found]
    from old_complaints.classify import load_taxonomy  # type: ignore[import-not-found]

    taxonomy = load_taxonomy(REPO / "dbt_project" / "seeds" / "complaint_taxonomy.csv")
    sample = texts(n, corpora)
    analyse_texts(pd.DataFrame({"complaint_id": ["w"], "complaint_text": ["warm up"]}), taxonomy)
    frame = pd.DataFrame({"complaint_id": [str(i) for i in range(len(sample))], "complaint_text": sample})
    cpu, wall = time.process_time(), time.perf_counter()
    analyse_texts(frame, taxonomy)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    return {
        "rows": len(sample),
        "distinct_texts": len(sample),
        "cpu_seconds": round(cpu, 2),
        "wall_seconds": round(wall, 2),
        "texts_per_cpu_second": round(len(sample) / cpu),
        "peak_rss_mb": round(_peak_rss_mb(), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--texts", type=int, default=20_000)
    parser.add_argument("--baseline-texts", type=int, default=2_000)
    parser.add_argument("--corpora", type=Path, default=REPO.parent / "shared" / "corpora")
    parser.add_argument("--one", choices=("cxpipe", "cxpipe-repeated", "baseline"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    corpora = args.corpora if args.corpora.is_dir() else None
    if args.one:
        if args.one == "baseline":
            result = run_baseline(args.baseline_texts, corpora)
        else:
            result = run_cxpipe(args.texts, corpora, 4 if args.one == "cxpipe-repeated" else 1)
        print(json.dumps(result))
        return
    results = {}
    for one in ("baseline", "cxpipe", "cxpipe-repeated"):
        command = [sys.executable, __file__, "--one", one, "--texts", str(args.texts)]
        command += ["--baseline-texts", str(args.baseline_texts), "--corpora", str(args.corpora)]
        done = subprocess.run(command, check=True, capture_output=True, text=True, env={**os.environ})
        results[one] = json.loads(done.stdout.strip().splitlines()[-1])
    meta = {
        "measured": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}",
        "load_average": [round(x, 1) for x in os.getloadavg()],
        "public_corpora": corpora is not None,
        "command": "benchmarks/complaint_nlp.py " + " ".join(sys.argv[1:]),
    }
    out = HERE / "results"
    out.mkdir(exist_ok=True)
    (out / "complaint_nlp.json").write_text(json.dumps({**meta, "runs": results}, indent=2) + "\n", encoding="utf-8")
    base, new, rep = results["baseline"], results["cxpipe"], results["cxpipe-repeated"]
    lines = [
        "# Complaint text analysis benchmark",
        "",
        f"Measured {meta['measured']} on {meta['machine']} (load average {meta['load_average']}) with "
        f"`{meta['command']}`; public corpora {'present' if corpora else 'absent'}.",
        "Throughput is texts per CPU-second of the process (all threads), i.e. per core; the models'",
        "training (once per build, cached by a hash of the training data) is not in the timed part.",
        "",
        "| run | rows | distinct texts | CPU s | wall s | texts / CPU-s | peak RSS (MB) |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name, r in (
        (f"baseline: per-text keywords (commit {BASELINE_COMMIT})", base),
        ("cxpipe analyse_texts, all texts distinct", new),
        ("cxpipe analyse_texts, each text 4 times", rep),
    ):
        lines.append(
            f"| {name} | {r['rows']:,} | {r['distinct_texts']:,} | {r['cpu_seconds']} | {r['wall_seconds']} "
            f"| {r['texts_per_cpu_second']:,} | {r['peak_rss_mb']} |"
        )
    lines += [
        "",
        f"Speed-up on distinct texts: {new['texts_per_cpu_second'] / base['texts_per_cpu_second']:.1f}×. "
        f"Training before the timed part: {new['training_seconds']} s. Languages detected: {new['languages']}.",
    ]
    (out / "complaint_nlp.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
