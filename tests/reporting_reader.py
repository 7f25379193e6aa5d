"""Reads the published reporting warehouse in a loop and checks each read is one whole publication.

Run as a separate process (``python tests/reporting_reader.py <reporting.duckdb> <seconds> <tables,...>``);
prints one JSON line: reads done, publication ids seen, and any inconsistency found.
"""

import json
import sys
import time

import duckdb


def main() -> None:
    path, seconds, tables = sys.argv[1], float(sys.argv[2]), sys.argv[3].split(",")
    deadline = time.monotonic() + seconds
    reads, seen, problems = 0, set(), []
    while time.monotonic() < deadline:
        try:
            con = duckdb.connect(path, read_only=True)
        except duckdb.IOException as exc:
            problems.append(f"cannot open: {exc}")
            continue
        try:
            ids = set()
            for table in tables:
                count, distinct_ids, pid = con.execute(
                    f'select count(*), count(distinct publication_id), min(publication_id) from "{table}"'
                ).fetchone()
                row = con.execute("select row_counts from publication_log where publication_id = ?", [pid]).fetchone()
                expected = json.loads(row[0])[table] if row else None
                if distinct_ids != 1 or count != expected:
                    problems.append(f"{table}: {count} rows, {distinct_ids} ids, log says {expected} for #{pid}")
                ids.add(pid)
            newest = con.execute("select max(publication_id) from publication_log").fetchone()[0]
            if ids != {newest}:
                problems.append(f"mixed publications {sorted(ids)} (log newest {newest})")
            seen |= ids
            reads += 1
        except duckdb.Error as exc:
            problems.append(f"{type(exc).__name__}: {exc}")
        finally:
            con.close()
    print(json.dumps({"reads": reads, "seen": sorted(seen), "problems": problems[:20]}))


if __name__ == "__main__":
    main()
