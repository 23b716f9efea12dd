"""Benchmark: reducing a large rollout log to answer-class counts on DuckDB, Spark, polars and pandas (same run).

Usage::

    python benchmarks/bench_reduce.py --rows 100000000 --files 64 --jsonl-rows 10000000
    python benchmarks/bench_reduce.py --rows 10000000 --files 64 --jsonl-rows 0      # quick

A synthetic log (``--models`` checkpoints x ``--questions`` questions, default 20 x 5,000; sample ids 0..n-1; ~25
answer classes per question; a correctness flag; tokens) is written with DuckDB into ``--files`` Parquet files
(and, if ``--jsonl-rows`` > 0, one JSONL.gz), then each method
runs in its own subprocess so that its peak resident memory (``ru_maxrss`` of that process and its children) is
its own; "in-process s" times the reduction after the imports, "wall s" the whole process:

* ``harness-duckdb``: ``harness.engines.reduce_inputs(engine='duckdb')`` (the class query with the duplicate
  check folded into its scan, normalisation of the distinct answers, QuestionCounts); ``harness-duckdb-nodup``
  skips the duplicate check; ``harness-duckdb-keydup`` adds the check before the bitmaps (a group-by over every
  (model, question, sample id) key) to a run without the check, for the before/after comparison;
* ``harness-duckdb-2t``: the same on two DuckDB threads (the default is one: ``harness.engines.duck.THREADS``);
* ``duckdb-sql``: the bare GROUP BY in DuckDB (the engine's floor; DuckDB's default threads); ``duckdb-sql-1t`` on
  one thread;
* ``polars``: ``scan_parquet(...).group_by(...).agg(...)`` (streaming engine);
* ``pandas``: ``read_parquet`` of the needed columns (strings as categoricals) + ``groupby`` (skipped above
  ``--pandas-max-rows``: it holds every row in memory);
* ``pandas-perfile``: the same, one Parquet file at a time (partial aggregates, then their sum): what pandas can
  do when the log does not fit in memory; used instead of ``pandas`` above ``--pandas-max-rows``;
* ``harness-spark``: ``reduce_inputs(engine='spark', spark_master='local[*]')`` after the session has started
  (JVM start-up outside the timed part); CPU s and peak RSS add the JVM's (a child process, read from ``/proc``
  before the session stops);
* ``harness-report``: ``harness report FOLDER`` end to end (reduction + curves + report files), with
  ``--bootstrap 200``.

Every method's (n, c) per model is checked against the first method's. Timings on a shared machine are noisy:
compare ratios within one run; "CPU s" (user + system of the process and its children, e.g. Spark's JVM) is the
least load-dependent figure, and "rows/CPU-s" the per-core rate used in docs/methods/engines.md.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

GEN = """
COPY (
  SELECT 'ckpt-' || lpad(m::VARCHAR, 2, '0') AS model, q AS question_id, smp AS sample_id,
         CASE WHEN skip THEN NULL WHEN u < p THEN gold::VARCHAR
              ELSE (gold + 1 + (floor(-ln(1.0 - v) * 4)::BIGINT % 40))::VARCHAR END AS answer,
         NOT skip AND u < p AS correct,
         (200 + hash(id * 13) % 4000)::BIGINT AS tokens
  FROM (
    SELECT id, m, q, smp, (q * 37) % 1000 AS gold, hash(id) % 20 = 0 AS skip,
           (hash(id * 7) % 1000000) / 1e6 AS u, (hash(id * 11) % 1000000) / 1e6 AS v,
           pow(10, -3.0 * ((hash(q * 31 + 1) % 1000) / 1000.0) * (1.0 - 0.02 * m)) AS p
    FROM (SELECT id, id % {m} AS m, (id // {m}) % {q} AS q, id // ({m} * {q}) AS smp FROM range({lo}, {hi}) t(id))
  )
) TO '{path}' ({fmt})
"""
"""The synthetic log: ``--models`` checkpoints x ``--questions`` questions x (rows / both) samples, sample ids
0..n-1 in the order a sampling loop writes them (one round over every model and question, then the next). Each
question has its own success probability, spread over three decades (p = 10^(-3u), u uniform per question, a little
higher for later checkpoints); 5 % of samples are unanswered; a wrong sample picks one of 40 wrong answers with
geometrically falling frequency (so a question has ~10-30 distinct answers, as real maths logs do); answers are
integers written as strings; tokens 200-4,199."""

METHODS: dict[str, str] = {
    "harness-duckdb": """
from harness.engines import reduce_inputs
# timed from here
r = reduce_inputs([SRC], normalizer="plain")
c = r.counts
OUT = {m: [int(c.n[c.model == m].sum()), int(c.correct[c.model == m].sum())] for m in c.models}
""",
    "harness-duckdb-nodup": """
from harness.engines import reduce_inputs
# timed from here
r = reduce_inputs([SRC], normalizer="plain", check_duplicates=False)
c = r.counts
OUT = {m: [int(c.n[c.model == m].sum()), int(c.correct[c.model == m].sum())] for m in c.models}
""",
    "harness-duckdb-keydup": """
from harness.engines import reduce_inputs
from harness.engines.core import make_runner
from harness.engines.sources import expand_inputs, resolve_spec
from harness.engines.sql import duplicate_sql
from harness.loaders._base import ColumnMap
# timed from here
r = reduce_inputs([SRC], normalizer="plain", check_duplicates=False)
run = make_runner("duckdb", expand_inputs([SRC]))
spec, _ = resolve_spec(run.describe(), ColumnMap(), source=SRC)
run.prepare(spec)
assert run.first(duplicate_sql(spec)) is None  # the check before the bitmaps: a group-by over every sample key
run.close()
c = r.counts
OUT = {m: [int(c.n[c.model == m].sum()), int(c.correct[c.model == m].sum())] for m in c.models}
""",
    "harness-duckdb-2t": """
from harness.engines import reduce_inputs
# timed from here
r = reduce_inputs([SRC], normalizer="plain", threads=2)
c = r.counts
OUT = {m: [int(c.n[c.model == m].sum()), int(c.correct[c.model == m].sum())] for m in c.models}
""",
    "duckdb-sql-1t": """
import duckdb
# timed from here
reader = f"read_parquet('{GLOB}')" if FMT == "parquet" else f"read_json('{GLOB}', format='newline_delimited')"
con = duckdb.connect(config={"threads": 1})
rows = con.sql(f"SELECT model, question_id, answer, correct, count(*) n, sum(tokens) t FROM {reader} "
               "GROUP BY ALL").fetchall()
OUT = {}
for m, q, a, ok, n, t in rows:
    o = OUT.setdefault(m, [0, 0]); o[0] += n; o[1] += n if ok else 0
""",
    "duckdb-sql": """
import duckdb
# timed from here
reader = f"read_parquet('{GLOB}')" if FMT == "parquet" else f"read_json('{GLOB}', format='newline_delimited')"
rows = duckdb.sql(f"SELECT model, question_id, answer, correct, count(*) n, sum(tokens) t FROM {reader} "
                  "GROUP BY ALL").fetchall()
OUT = {}
for m, q, a, ok, n, t in rows:
    o = OUT.setdefault(m, [0, 0]); o[0] += n; o[1] += n if ok else 0
""",
    "polars": """
import polars as pl
# timed from here
scan = pl.scan_parquet(GLOB) if FMT == "parquet" else pl.scan_ndjson(GLOB)
g = (scan.group_by(["model", "question_id", "answer", "correct"])
     .agg(pl.len().alias("n"), pl.col("tokens").sum().alias("t")).collect(engine="streaming"))
OUT = {}
for m, ok, n in zip(g["model"].to_list(), g["correct"].to_list(), g["n"].to_list()):
    o = OUT.setdefault(m, [0, 0]); o[0] += n; o[1] += n if ok else 0
""",
    "pandas": """
import pandas as pd, pyarrow.dataset as ds
# timed from here
if FMT == "parquet":
    t = ds.dataset(SRC, format="parquet").to_table(columns=["model", "question_id", "answer", "correct", "tokens"])
    t = t.set_column(0, "model", t.column("model").dictionary_encode())
    t = t.set_column(2, "answer", t.column("answer").dictionary_encode())
    df = t.to_pandas()
else:
    df = pd.read_json(GLOB, lines=True, dtype={"model": "category", "answer": "category"})
g = df.groupby(["model", "question_id", "answer", "correct"], observed=True, dropna=False).agg(
    n=("tokens", "size"), t=("tokens", "sum")).reset_index()
OUT = {}
for m, ok, n in zip(g["model"].astype(str), g["correct"], g["n"]):
    o = OUT.setdefault(m, [0, 0]); o[0] += int(n); o[1] += int(n) if ok else 0
""",
    "pandas-perfile": """
import glob, pandas as pd, pyarrow.parquet as pq
# timed from here
parts = []
for path in sorted(glob.glob(GLOB)):  # one file at a time: partial aggregates, then their sum
    t = pq.read_table(path, columns=["model", "question_id", "answer", "correct", "tokens"])
    t = t.set_column(0, "model", t.column("model").dictionary_encode())
    t = t.set_column(2, "answer", t.column("answer").dictionary_encode())
    df = t.to_pandas()
    parts.append(df.groupby(["model", "question_id", "answer", "correct"], observed=True, dropna=False).agg(
        n=("tokens", "size"), t=("tokens", "sum")).reset_index().astype({"model": str, "answer": object}))
g = pd.concat(parts).groupby(["model", "question_id", "answer", "correct"], dropna=False).sum().reset_index()
OUT = {}
for m, ok, n in zip(g["model"].astype(str), g["correct"], g["n"]):
    o = OUT.setdefault(m, [0, 0]); o[0] += int(n); o[1] += int(n) if ok else 0
""",
    "harness-spark": """
import os
from harness.engines import reduce_inputs
from harness.engines.spark import session
def jvm():  # (CPU s, peak RSS KiB) of this process's child JVMs, read from /proc while they run
    cpu = peak = 0
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            st = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
            if int(st[1]) != os.getpid():
                continue
            cpu += (int(st[11]) + int(st[12])) / os.sysconf("SC_CLK_TCK")
            peak += int([ln for ln in open(f"/proc/{pid}/status") if ln.startswith("VmHWM")][0].split()[1])
        except (OSError, IndexError, ValueError):
            continue
    return cpu, peak
session("local[*]")  # JVM start-up outside the timed part
JVM0 = jvm()[0]
# timed from here
r = reduce_inputs([SRC], normalizer="plain", engine="spark", spark_master="local[*]")
c = r.counts
OUT = {m: [int(c.n[c.model == m].sum()), int(c.correct[c.model == m].sum())] for m in c.models}
JVM_CPU, JVM_RSS = jvm()[0] - JVM0, jvm()[1]
""",
}


def generate(
    folder: str, rows: int, files: int, jsonl_rows: int, models: int = 20, questions: int = 5000
) -> tuple[str, str | None]:
    import duckdb

    con = duckdb.connect()
    pq_dir = os.path.join(folder, "parquet")
    os.makedirs(pq_dir)
    chunk = -(-rows // files)
    for i in range(files):
        lo, hi = i * chunk, min(rows, (i + 1) * chunk)
        path = os.path.join(pq_dir, f"part-{i:03d}.parquet")
        con.execute(GEN.format(m=models, q=questions, lo=lo, hi=hi, path=path, fmt="FORMAT parquet"))
    jsonl = None
    if jsonl_rows:
        jsonl = os.path.join(folder, "log.jsonl.gz")
        con.execute(GEN.format(m=models, q=questions, lo=0, hi=jsonl_rows, path=jsonl,
                               fmt="FORMAT json, COMPRESSION gzip"))
    con.close()
    return pq_dir, jsonl


def run_child(code: str, timeout: float | None = None) -> tuple[float, str, int]:
    """(wall seconds including interpreter start and imports, stdout, exit status) of ``python -c code``.

    The child prints its own peak RSS (``ru_maxrss`` of itself and of its children, e.g. Spark's JVM).
    """
    env = dict(os.environ, PYTHONPATH=ROOT)
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        return time.perf_counter() - t0, "", -9
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        sys.stderr.write(err.decode()[-2000:])
    return wall, out.decode(), proc.returncode


WRAP = """
import json, resource, time, warnings
warnings.simplefilter("ignore")
SRC, GLOB, FMT = {src!r}, {glob!r}, {fmt!r}
{setup}
def cpu():
    a, b = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return a.ru_utime + a.ru_stime + b.ru_utime + b.ru_stime
c0, t0 = cpu(), time.perf_counter()
{body}
wall, cpu_s = time.perf_counter() - t0, cpu() - c0 + globals().get("JVM_CPU", 0.0)
rss = max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
rss += globals().get("JVM_RSS", 0)
print(json.dumps({{"wall": wall, "cpu": cpu_s, "rss_mib": rss / 1024, "out": OUT}}))
"""


def measure(name: str, src: str, glob: str, fmt: str) -> dict[str, object]:
    setup, _, body = METHODS[name].partition("# timed from here")
    code = WRAP.format(src=src, glob=glob, fmt=fmt, setup=setup, body=body)
    wall, out, status = run_child(code)
    if status != 0:
        return {"method": name, "status": f"failed ({status})", "wall": wall}
    res = json.loads(out.strip().splitlines()[-1])
    return {"method": name, "wall": wall, "inner": res["wall"], "cpu": res["cpu"], "rss_mib": res["rss_mib"],
            "out": res["out"]}


def report_end_to_end(src: str, folder: str, timeout: float | None = None) -> dict[str, object]:
    out_dir = os.path.join(folder, "report")
    code = (
        "import resource, sys, json, time\nfrom harness.cli import main\nt0 = time.perf_counter()\n"
        "u = lambda: sum(getattr(resource.getrusage(w), f) for w in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN) "
        "for f in ('ru_utime', 'ru_stime'))\nc0 = u()\n"
        f"rc = main(['report', {src!r}, '--out', {out_dir!r}, '--bootstrap', '200', '--quiet'])\n"
        "rss = max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, "
        "resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
        "print(json.dumps({'wall': time.perf_counter() - t0, 'cpu': u() - c0, 'rss_mib': rss / 1024, 'rc': rc}))\n"
    )
    wall, out, status = run_child(code, timeout)
    if status == -9:
        return {"method": "harness-report", "status": f"not finished in {timeout:.0f} s (stopped)", "wall": wall}
    if status != 0:
        return {"method": "harness-report", "status": f"failed ({status})", "wall": wall}
    res = json.loads(out.strip().splitlines()[-1])
    return {"method": "harness-report", "wall": wall, "inner": res["wall"], "cpu": res["cpu"],
            "rss_mib": res["rss_mib"], "out": None}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rows", type=int, default=100_000_000)
    ap.add_argument("--files", type=int, default=64)
    ap.add_argument("--jsonl-rows", type=int, default=10_000_000)
    ap.add_argument("--models", type=int, default=20, help="models (checkpoints) in the generated log")
    ap.add_argument("--questions", type=int, default=5000, help="questions per model in the generated log")
    ap.add_argument("--pandas-max-rows", type=int, default=30_000_000)
    ap.add_argument("--report-timeout", type=float, default=1800.0, help="stop harness-report after this long")
    ap.add_argument("--methods", default=",".join([*METHODS, "harness-report"]))
    ap.add_argument("--workdir", default=None, help="where to write the generated log (default: a temp folder)")
    ap.add_argument("--keep", action="store_true", help="keep the generated files")
    ap.add_argument("--formats", default="parquet,jsonl.gz", help="which generated inputs to measure")
    ap.add_argument("--data", default=None, help="reuse a folder written by an earlier --keep run (not deleted)")
    args = ap.parse_args()
    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    folder = args.data or tempfile.mkdtemp(prefix="bench-reduce-", dir=args.workdir)
    try:
        t0 = time.perf_counter()
        if args.data:
            pq_dir, jsonl = os.path.join(folder, "parquet"), os.path.join(folder, "log.jsonl.gz")
            jsonl = jsonl if args.jsonl_rows and os.path.exists(jsonl) else None
        else:
            pq_dir, jsonl = generate(folder, args.rows, args.files, args.jsonl_rows, args.models, args.questions)
        size = sum(os.path.getsize(os.path.join(pq_dir, f)) for f in os.listdir(pq_dir))
        print(f"generated {args.rows:,} rows in {args.files} Parquet files ({size / 2**20:.0f} MiB) "
              f"in {time.perf_counter() - t0:.0f} s; cores: {os.cpu_count()}", flush=True)
        inputs = [("parquet", pq_dir, os.path.join(pq_dir, "*.parquet"), args.rows)]
        if jsonl:
            inputs.append(("jsonl.gz", jsonl, jsonl, args.jsonl_rows))
        rows_out = []
        for fmt_name, src, glob, rows in [i for i in inputs if i[0] in args.formats.split(",")]:
            fmt = "parquet" if fmt_name == "parquet" else "jsonl"
            ref = None
            for name in methods:
                if name == "harness-report":
                    if fmt == "parquet":
                        res = report_end_to_end(src, folder, args.report_timeout)
                        rows_out.append((fmt_name, rows, res))
                        print(f"  {fmt_name:8s} {name:22s} {res.get('wall', float('nan')):8.1f} s  "
                              f"{res.get('rss_mib', float('nan')):8.0f} MiB  {res.get('status', '')}", flush=True)
                    continue
                if name == "pandas" and rows > args.pandas_max_rows:
                    rows_out.append((fmt_name, rows, {"method": name, "status": "skipped (holds every row)"}))
                    if fmt != "parquet" or "pandas-perfile" in methods:
                        continue
                    name = "pandas-perfile"
                if name == "pandas-perfile" and fmt != "parquet":
                    continue
                res = measure(name, src, glob, fmt)
                if "out" in res and res["out"] is not None:
                    if ref is None:
                        ref = res["out"]
                    res["agrees"] = res["out"] == ref
                rows_out.append((fmt_name, rows, res))
                print(f"  {fmt_name:8s} {name:22s} {res.get('wall', float('nan')):8.1f} s  "
                      f"{res.get('cpu', float('nan')):8.1f} CPU-s  {res.get('rss_mib', float('nan')):8.0f} MiB  "
                      f"{res.get('status', '')} agrees={res.get('agrees', '')}", flush=True)
        print("\n| input | rows | method | wall s | in-process s | CPU s | peak RSS MiB | rows/CPU-s | agrees |")
        print("|---|---|---|---|---|---|---|---|---|")
        for fmt_name, rows, res in rows_out:
            if "status" in res:
                print(f"| {fmt_name} | {rows:,} | {res['method']} | {res['status']} | | | | | |")
                continue
            rate = rows / max(float(res["cpu"]), 1e-9)  # type: ignore[arg-type]
            print(f"| {fmt_name} | {rows:,} | {res['method']} | {float(res['wall']):.1f} | "  # type: ignore[arg-type]
                  f"{float(res['inner']):.1f} | {float(res['cpu']):.1f} | "  # type: ignore[arg-type]
                  f"{float(res['rss_mib']):.0f} | {rate:,.0f} | {res.get('agrees', '')} |")  # type: ignore[arg-type]
    finally:
        if not args.keep and not args.data:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
