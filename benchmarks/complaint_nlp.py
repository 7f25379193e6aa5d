"""Throughput and peak memory of the complaint text analysis, against the implementation it replaced.

Usage::

    .venv/bin/python benchmarks/complaint_nlp.py [--texts 20000] [--baseline-texts 2000] [--repeats 3]
        [--before COMMIT] [--corpora ../shared/corpora]

Texts: the project corpus (en, zh, ru) plus German, Swedish, Portuguese, Spanish and
French complaints, and the public corpora's texts when present (zh reviews, ru tweets),
all distinct (an order number is appended where the pool runs out), shuffled with a fixed seed.
Each run is a fresh process so peak memory is its own:

* ``cxpipe``: :func:`cxpipe.complaints.analyse_texts` on a frame of ``--texts`` distinct
  texts (language, PII redaction, sentiment, root cause), models trained before the
  clock starts; and the same frame where each text occurs 4 times (dedupe).
* ``before``: the same function as it was at ``--before`` (a commit: its
  ``cxpipe/complaints`` and ``cxpipe/privacy`` packages loaded from git), on the same texts, so
  a change is measured against what it changed in the same run, under the same load.
* ``baseline``: the per-text keyword implementation cxpipe used before the learned models
  (commit 4b0c636: lingua per text, every keyword tried on every text, lexicon/VADER
  sentiment), loaded from git, on ``--baseline-texts`` of the same texts.

Every run is repeated ``--repeats`` times, the variants taking turns; the tables give the
median and the range. Throughput is texts per CPU-second of the process (all its threads),
i.e. per core; BLAS, OpenMP and lingua's thread pools are limited to one thread, so the CPU
time does not depend on how many threads wait for work. Before the clock starts, each run
analyses a few texts that load what is loaded once per process (models, lingua's language
models, the name gazetteer); that start-up is reported apart (the first run of a variant
trains its models into a cache directory the later runs load them from, as a dbt build does
with ``CX_MODEL_CACHE_DIR``).
Writes ``benchmarks/results/complaint_nlp.json`` and ``.md``. Not a test: the numbers
depend on the machine and its load.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import platform
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
BASELINE_COMMIT = "4b0c636"
#: The commit ``before`` measures unless --before names another: cxpipe before the shared n-gram pass.
BEFORE_COMMIT = "6f34577"
#: One thread per pool: the CPU time of a run is its work, not threads spinning.
SINGLE_THREADED = {
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "RAYON_NUM_THREADS": "1",
}
#: Analysed before the clock starts (one-off loading); none of them is in the timed texts.
WARM_UP = [
    "warm up",
    "Mr Smith at 12 Baker Street called 0701 234 567, anna(at)gmail(dot)com",
    "快递太慢了，王先生",
    "Доставка задерживается, ул. Ленина, д. 5",
    "Die Lieferung ist zu spät",
]
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
    rng.shuffle(pool)  # every language in the mix whatever ``n`` and however large the corpus grows
    out, seen, i = [], set(), 0
    while len(out) < n:
        text = pool[i % len(pool)] + ("" if i < len(pool) else f" #SO-{10000 + i}")
        i += 1
        if text not in seen:
            seen.add(text)
            out.append(text)
    rng.shuffle(out)
    return out


def _load_from_git(commit: str, packages: dict[str, str], prefix: str) -> Path:
    """Copies of ``plugins/cxpipe/<package>`` at ``commit`` as top-level packages ``<prefix>_<package>``.

    Imports of ``cxpipe.<package>`` among them are pointed at the copies; other cxpipe modules are today's.
    """
    root = Path(tempfile.mkdtemp(prefix=f"cx_{prefix}_nlp_"))
    renames = {f"cxpipe.{name}": f"{prefix}_{name}" for name in packages}
    for name, kinds in packages.items():
        listing = subprocess.run(
            ["git", "ls-tree", "-r", "--name-only", commit, f"plugins/cxpipe/{name}/"],
            cwd=REPO,
            check=True,
            capture_output=True,
            text=True,
        ).stdout.split()
        for path in listing:
            if not path.endswith(tuple(kinds.split(","))):
                continue
            source = subprocess.run(
                ["git", "show", f"{commit}:{path}"], cwd=REPO, check=True, capture_output=True
            ).stdout
            target = root / f"{prefix}_{name}" / path.split(f"plugins/cxpipe/{name}/", 1)[1]
            target.parent.mkdir(parents=True, exist_ok=True)
            if path.endswith(".py"):
                text = source.decode("utf-8")
                for old, new in renames.items():
                    text = text.replace(f"{old}.", f"{new}.").replace(f"from {old} import", f"from {new} import")
                    text = text.replace(f"import {old}\n", f"import {new}\n")
                source = text.encode("utf-8")
            target.write_bytes(source)
    return root


def _timed(analyse: Any, taxonomy: Any, sample: list[str], repeat: int, **options: Any) -> dict[str, object]:
    import pandas as pd

    started = time.perf_counter()
    warm = pd.DataFrame({"complaint_id": [f"w{i}" for i in range(len(WARM_UP))], "complaint_text": WARM_UP})
    analyse(warm, taxonomy, **options)
    startup = time.perf_counter() - started
    body = sample * repeat
    frame = pd.DataFrame({"complaint_id": [str(i) for i in range(len(body))], "complaint_text": body})
    cpu, wall = time.process_time(), time.perf_counter()
    out = analyse(frame, taxonomy, **options)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    languages = out["language"].value_counts().to_dict() if "language" in out else {}
    return {
        "rows": len(body),
        "distinct_texts": len(sample),
        "cpu_seconds": round(cpu, 2),
        "wall_seconds": round(wall, 2),
        "texts_per_cpu_second": round(len(body) / cpu),
        "startup_seconds": round(startup, 1),
        "peak_rss_mb": round(_peak_rss_mb(), 1),
        "languages": {str(k): int(v) for k, v in languages.items()},
    }


def run_cxpipe(n: int, corpora: Path | None, repeat: int, cache: Path | None) -> dict[str, object]:
    from cxpipe.complaints import analyse_texts, load_taxonomy

    taxonomy = load_taxonomy(REPO / "dbt_project" / "seeds" / "complaint_taxonomy.csv")
    return _timed(analyse_texts, taxonomy, texts(n, corpora), repeat, corpora_dir=corpora, cache_dir=cache)


def run_before(n: int, corpora: Path | None, commit: str, cache: Path | None) -> dict[str, object]:
    """:func:`run_cxpipe` with the complaints and privacy packages of ``commit``."""
    sample = texts(n, corpora)
    root = _load_from_git(commit, {"complaints": ".py,.csv", "privacy": ".py"}, "before")
    sys.path.insert(0, str(root))
    module = importlib.import_module("before_complaints")
    taxonomy = module.load_taxonomy(REPO / "dbt_project" / "seeds" / "complaint_taxonomy.csv")
    return _timed(module.analyse_texts, taxonomy, sample, 1, corpora_dir=corpora, cache_dir=cache)


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
    from old_complaints import analyse_texts  # type: ignore[import-not-found]
    from old_complaints.classify import load_taxonomy  # type: ignore[import-not-found]

    taxonomy = load_taxonomy(REPO / "dbt_project" / "seeds" / "complaint_taxonomy.csv")
    return _timed(analyse_texts, taxonomy, texts(n, corpora), 1)


def _median(values: list[float]) -> float:
    return float(statistics.median(values))


VARIANTS = {
    "baseline": "baseline: per-text keywords (commit {baseline})",
    "before": "before: cxpipe at commit {before}, all texts distinct",
    "cxpipe": "cxpipe analyse_texts, all texts distinct",
    "cxpipe-repeated": "cxpipe analyse_texts, each text 4 times",
}


def main() -> None:
    from cxbench import portable_command  # benchmarks/, the folder of this script, is on sys.path

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--texts", type=int, default=20_000)
    parser.add_argument("--baseline-texts", type=int, default=2_000)
    parser.add_argument("--repeats", type=int, default=3, help="runs of each variant (fresh processes)")
    parser.add_argument("--before", default=BEFORE_COMMIT, help="commit measured as 'before'")
    parser.add_argument("--corpora", type=Path, default=REPO.parent / "shared" / "corpora")
    parser.add_argument("--one", choices=tuple(VARIANTS), help=argparse.SUPPRESS)
    parser.add_argument("--cache-dir", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    corpora = args.corpora if args.corpora.is_dir() else None
    if args.one:
        if args.one == "baseline":
            result = run_baseline(args.baseline_texts, corpora)
        elif args.one == "before":
            result = run_before(args.texts, corpora, args.before, args.cache_dir)
        else:
            result = run_cxpipe(args.texts, corpora, 4 if args.one == "cxpipe-repeated" else 1, args.cache_dir)
        print(json.dumps(result))
        return
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in VARIANTS}
    cache = Path(tempfile.mkdtemp(prefix="cx_nlp_models_"))  # models trained once, loaded by the later runs
    for _ in range(args.repeats):  # the variants take turns, so a change in the machine's load hits all of them
        for one in VARIANTS:
            command = [sys.executable, __file__, "--one", one, "--texts", str(args.texts)]
            command += ["--baseline-texts", str(args.baseline_texts), "--corpora", str(args.corpora)]
            command += ["--before", args.before, "--cache-dir", str(cache)]
            env = {**os.environ, **SINGLE_THREADED}
            done = subprocess.run(command, check=True, capture_output=True, text=True, env=env)
            runs[one].append(json.loads(done.stdout.strip().splitlines()[-1]))
    meta = {
        "measured": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}",
        "load_average": [round(x, 1) for x in os.getloadavg()],
        "public_corpora": corpora is not None,
        "command": portable_command("benchmarks/complaint_nlp.py", sys.argv[1:]),
        "before_commit": args.before,
        "threads": SINGLE_THREADED,
    }
    out = HERE / "results"
    out.mkdir(exist_ok=True)
    (out / "complaint_nlp.json").write_text(json.dumps({**meta, "runs": runs}, indent=2) + "\n", encoding="utf-8")

    def summary(name: str) -> dict[str, float]:
        values = runs[name]
        return {
            key: _median([float(r[key]) for r in values])
            for key in (
                "rows",
                "distinct_texts",
                "cpu_seconds",
                "wall_seconds",
                "texts_per_cpu_second",
                "startup_seconds",
                "peak_rss_mb",
            )
        }

    lines = [
        "# Complaint text analysis benchmark",
        "",
        f"Measured {meta['measured']} on {meta['machine']} (load average {meta['load_average']}) with "
        f"`{meta['command']}`; public corpora {'present' if corpora else 'absent'}; "
        f"{args.repeats} runs of each variant, taking turns, each in a fresh process with one thread per pool "
        "(BLAS, OpenMP, lingua).",
        "Throughput is texts per CPU-second of the process (all threads), i.e. per core; start-up (training or",
        "loading the models, lingua's language models, the name gazetteer: once per process) is not in the timed",
        "part. Median of the runs, range in brackets.",
        "",
        "| run | rows | distinct texts | CPU s | wall s | texts / CPU-s | (range) | start-up s | peak RSS (MB) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, label in VARIANTS.items():
        m = summary(name)
        rates = [int(r["texts_per_cpu_second"]) for r in runs[name]]
        lines.append(
            f"| {label.format(baseline=BASELINE_COMMIT, before=args.before)} | {int(m['rows']):,} "
            f"| {int(m['distinct_texts']):,} | {m['cpu_seconds']:.2f} | {m['wall_seconds']:.2f} "
            f"| {int(m['texts_per_cpu_second']):,} | {min(rates):,}–{max(rates):,} | {m['startup_seconds']:.1f} "
            f"| {m['peak_rss_mb']:.0f} |"
        )
    base, before, new = summary("baseline"), summary("before"), summary("cxpipe")
    lines += [
        "",
        f"Distinct texts: {new['texts_per_cpu_second'] / before['texts_per_cpu_second']:.1f}× the texts per CPU-second "
        f"of commit {args.before} in the same runs, {new['texts_per_cpu_second'] / base['texts_per_cpu_second']:.0f}× "
        f"the per-text baseline. Languages detected: {runs['cxpipe'][0]['languages']}.",
    ]
    (out / "complaint_nlp.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
