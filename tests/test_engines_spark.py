"""Spark runs the same SQL on a real local cluster (separate executor JVMs) and gives DuckDB's counts, even when an
executor is killed in the middle of the job (Spark reruns the lost tasks).

Skipped (with the reason) when PySpark or a Java runtime is missing. ``local-cluster[2,1,1024]`` starts a master,
a worker and two executor processes of one core and 1 GiB each, all on this machine.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from test_engines import (
    FIXTURE_TABLES,
    assert_damaged_inputs_named,
    assert_same,
    make_rollouts,
    quoting_rollouts,
    write,
)
from test_engines_real import REAL

from harness._validation import HarnessInputError
from harness.engines import reduce_inputs
from harness.engines.core import finish_classes
from harness.engines.sources import expand_inputs, resolve_spec
from harness.engines.spark import spark_available
from harness.engines.sql import VIEW
from harness.loaders import ColumnMap

MASTER = "local-cluster[2,1,1024]"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(spark_available() is not None, reason=str(spark_available())),
    pytest.mark.filterwarnings("ignore:PySpark does not yet fully support pandas:FutureWarning"),
]


@pytest.fixture(scope="module")
def spark() -> Iterator[Any]:
    from harness.engines.spark import session, stop_session

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)  # the executors' Python for the test-only UDF
    yield session(MASTER)
    stop_session(MASTER)


def test_spark_cluster_same_counts_as_duckdb(spark: Any, tmp_path: Path) -> None:
    df = make_rollouts()
    cases: list[tuple[list[str], ColumnMap]] = []
    for name in ("r.parquet", "r.csv", "r.jsonl.gz"):
        cases.append(([str(write(df, tmp_path / name))], ColumnMap()))
    hive = tmp_path / "hive"
    for model, part in df.groupby("model"):
        (hive / f"model={model}").mkdir(parents=True)
        write(part.drop(columns=["model"]), hive / f"model={model}" / "data.parquet")
    cases.append(([str(hive)], ColumnMap()))
    for items, cols in cases:
        ref = reduce_inputs(items, columns=cols, engine="duckdb")
        got = reduce_inputs(items, columns=cols, engine="spark", spark_master=MASTER)
        assert_same(ref.counts, got.counts)
        assert got.provenance["engine"] == "spark" and got.provenance["spark_master"] == MASTER


@pytest.mark.parametrize("name", sorted(REAL))
def test_spark_cluster_same_counts_as_in_memory_on_real_data(spark: Any, shared_data: Path, name: str) -> None:
    """Every per-sample dataset of ../shared/data (test_engines_real checks DuckDB against the same reference)."""
    rel, cols = REAL[name]
    path = shared_data / rel
    if not path.exists():
        pytest.skip(f"{path} is absent")
    ref = reduce_inputs([str(path)], columns=cols, engine="memory")
    got = reduce_inputs([str(path)], columns=cols, engine="spark", spark_master=MASTER)
    assert_same(ref.counts, got.counts)
    assert got.provenance["rows_read"] == int(ref.counts.n.sum())


@pytest.mark.parametrize("name", sorted(FIXTURE_TABLES))
def test_spark_cluster_same_counts_as_in_memory_on_fixtures(spark: Any, name: str) -> None:
    path = str(Path(__file__).parent / "fixtures" / name)
    ref = reduce_inputs([path], columns=FIXTURE_TABLES[name], engine="memory")
    got = reduce_inputs([path], columns=FIXTURE_TABLES[name], engine="spark", spark_master=MASTER)
    assert_same(ref.counts, got.counts)


@pytest.mark.parametrize("name", ["q.csv", "q.tsv", "q.jsonl", "q.parquet"])
def test_spark_reads_quoting_and_number_like_ids_as_in_memory(spark: Any, tmp_path: Path, name: str) -> None:
    """RFC 4180 quoting (line breaks and doubled quotes inside fields) and ids such as 007 kept as text."""
    p = write(quoting_rollouts(), tmp_path / name)
    ref = reduce_inputs([str(p)], engine="memory", normalizer="none")
    got = reduce_inputs([str(p)], engine="spark", spark_master=MASTER, normalizer="none")
    assert_same(ref.counts, got.counts)


def test_spark_names_the_line_or_row_of_damaged_inputs(spark: Any, tmp_path: Path) -> None:
    """A malformed record fails the Spark job (FAILFAST) rather than becoming nulls or losing a field; the
    line-by-line readers then name the line, as on DuckDB and in memory."""
    assert_damaged_inputs_named(tmp_path, ("spark",), spark_master=MASTER)


def test_spark_names_the_bad_row(spark: Any, tmp_path: Path) -> None:
    df = make_rollouts(n_q=3, n_s=4).astype({"correct": str})
    df.loc[7, "correct"] = "perhaps"
    p = write(df, tmp_path / "bad.csv")
    with pytest.raises(HarnessInputError, match=r"bad\.csv, row 7, column 'correct'.*'perhaps' is not boolean-like"):
        reduce_inputs([str(p)], engine="spark", spark_master=MASTER)
    spaced = write(df, tmp_path / "a bad file.csv")  # Spark names it as a URI (%20): the row is still found
    with pytest.raises(HarnessInputError, match=r"/a bad file\.csv, row 7, column 'correct'"):
        reduce_inputs([str(spaced)], engine="spark", spark_master=MASTER)


def test_spark_names_a_duplicate_sample(spark: Any, tmp_path: Path) -> None:
    df = make_rollouts(n_q=3, n_s=4)
    shards = tmp_path / "s"
    shards.mkdir()
    write(df, shards / "a.parquet")
    write(df.iloc[[5]], shards / "b.parquet")  # integer ids: found by the bitmap check, then the row is named
    with pytest.raises(HarnessInputError, match=r"b\.parquet, row 0, column 'sample_id': duplicate sample id 1"):
        reduce_inputs([str(shards)], engine="spark", spark_master=MASTER)
    folded = tmp_path / "j"  # JSON lines: the bitmap check rides in the class query's scan (GROUPING SETS)
    folded.mkdir()
    write(df, folded / "a.jsonl.gz")
    write(df.iloc[[5, 5]].assign(sample_id=[99, 1]), folded / "b.jsonl.gz")
    with pytest.raises(HarnessInputError, match=r"b\.jsonl\.gz, row 1, column 'sample_id': duplicate sample id 1"):
        reduce_inputs([str(folded)], engine="spark", spark_master=MASTER)
    write(df.astype({"sample_id": str}).iloc[[5]], shards / "b.parquet")
    write(df.astype({"sample_id": str}), shards / "a.parquet")  # string ids: the group-by over every key
    with pytest.raises(HarnessInputError, match=r"b\.parquet, row 0, column 'sample_id': duplicate sample id"):
        reduce_inputs([str(shards)], engine="spark", spark_master=MASTER)


def _executors(app_id: str) -> list[int]:
    """PIDs of this application's executor JVMs (their command lines name the backend class and the app id)."""
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as fh:
                cmd = fh.read()
        except OSError:
            continue
        if b"CoarseGrainedExecutorBackend" in cmd and app_id.encode() in cmd:
            pids.append(int(entry))
    return sorted(pids)


def test_killing_an_executor_mid_job_gives_the_same_counts(spark: Any, tmp_path: Path) -> None:
    """No timing: every task blocks (a test-only UDF) until the test writes a release file. The test waits until
    two tasks have started (each executor has one core, so both executors hold a blocked task), kills one
    executor, checks the job is still running, then releases the tasks; Spark reruns the lost task."""
    from pyspark.sql.types import BooleanType

    from harness.engines.spark import SparkRunner

    rng = np.random.default_rng(3)
    df = make_rollouts(n_q=80, n_s=100, seed=4)
    shards = tmp_path / "shards"
    shards.mkdir()
    for i, part in enumerate(np.array_split(rng.permutation(len(df)), 8)):
        write(df.iloc[np.sort(part)], shards / f"part-{i}.parquet")
    ref = reduce_inputs([str(shards)], engine="duckdb")
    marks = tmp_path / "marks"
    marks.mkdir()
    release = str(marks / "release")

    def gate(_: object) -> bool:  # test-only: say "task started", then wait for the release file
        from pyspark import TaskContext

        ctx = TaskContext.get()
        started = os.path.join(str(marks), f"started-{ctx.partitionId() if ctx else os.getpid()}")
        if not os.path.exists(started):
            open(started, "w").close()
        while not os.path.exists(release):
            time.sleep(0.02)
        return True

    spark.udf.register("harness_gate", gate, BooleanType())
    inputs = expand_inputs([str(shards)])
    runner = SparkRunner(inputs, master=MASTER)
    spec, _ = resolve_spec(runner.describe(), ColumnMap(), source=str(shards))
    runner.prepare(spec)
    # the class query reads the projected source view: every row passes the gate on its way into the aggregation
    spark.table(VIEW).createOrReplaceTempView(f"{VIEW}_open")
    spark.sql(f"SELECT * FROM {VIEW}_open WHERE harness_gate(q0)").createOrReplaceTempView(VIEW)
    result: dict[str, Any] = {}
    app_id = spark.sparkContext.applicationId
    before = _executors(app_id)
    assert len(before) == 2, f"expected two executor processes, found {before}"
    def run() -> None:
        try:
            result["raw"] = runner.classes(spec, prepared=True)
        except Exception as exc:  # reported by the assertions below
            result["error"] = exc

    job = threading.Thread(target=run)
    job.start()
    try:
        while len([f for f in os.listdir(marks) if f.startswith("started-")]) < 2 and job.is_alive():
            time.sleep(0.05)  # polling for the markers, not a timed condition: the tasks cannot finish unreleased
        assert job.is_alive(), f"the job ended before its tasks were released: {result.get('error')}"
        os.kill(before[0], signal.SIGKILL)
        killed_in_flight = job.is_alive()
    finally:
        open(release, "w").close()
    job.join(timeout=600)
    assert killed_in_flight, "the executor was not killed while the job ran"
    assert not job.is_alive() and "raw" in result
    assert before[0] not in _executors(app_id)
    counts, _, _ = finish_classes(result["raw"], spec, normalizer="math", stopping=None, source=str(shards))
    assert_same(ref.counts, counts)


def test_a_bad_spark_master_is_a_one_line_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from harness.cli import main

    p = write(make_rollouts(n_q=3, n_s=4), tmp_path / "r.parquet")
    out = tmp_path / "c.parquet"
    assert main(["reduce", str(p), "--out", str(out), "--engine", "spark", "--spark-master", "bogus://x"]) == 2
    err = capsys.readouterr().err
    assert "--spark-master 'bogus://x' is not a Spark master URL" in err and "Traceback" not in err
    assert not out.exists()


def test_an_hf_path_on_spark_is_a_one_line_error(spark: Any) -> None:
    """Spark has no Hadoop filesystem for hf://: the error says so and where such paths are read."""
    from harness.engines.sources import hf_parquet_glob

    path = hf_parquet_glob("harness-tests/no-such-dataset-x9")
    with pytest.raises(HarnessInputError, match=r"hf:// has none: use --engine duckdb") as info:
        reduce_inputs([path], engine="spark", spark_master=MASTER)
    assert str(info.value).startswith(path) and "\n" not in str(info.value)
