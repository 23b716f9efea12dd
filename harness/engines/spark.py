"""Spark (PySpark): the same SQL text over files on any master (``local[*]``, ``local-cluster[...]``, ``spark://``,
``yarn``, ``k8s://``). Spark plans the GROUP BY as a map-side partial aggregation, a shuffle of the partial rows
(about one per distinct key per partition) and a final aggregation, so the shuffle carries classes, not samples.
"""

from __future__ import annotations

import atexit
import os
import shutil
from typing import Any

import pandas as pd

from harness._validation import HarnessInputError
from harness.engines.sources import Inputs, raise_bad_line
from harness.engines.sql import CANON, VIEW, Spec, canonical_sql, class_sql, projection, typed_fields

_SESSIONS: dict[str, Any] = {}


def spark_available() -> str | None:
    """None when PySpark and a Java runtime are present, else why not (for the error and for test skips)."""
    try:
        import pyspark  # noqa: F401
    except ImportError:
        return "pyspark is not installed (pip install 'harness[spark]')"
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        return "no Java runtime (install one, e.g. apt-get install openjdk-17-jre-headless)"
    return None


def session(master: str = "local[*]", **conf: str) -> Any:
    """A SparkSession on ``master`` (one per master per process, stopped at exit)."""
    why = spark_available()
    if why is not None:
        raise HarnessInputError(f"--engine spark needs PySpark and Java: {why}", fix="or use --engine duckdb")
    if master != "yarn" and not master.startswith(("local", "spark://", "k8s://")):  # Spark's own rule, checked
        raise HarnessInputError(  # before a JVM starts (it would print its stack trace)
            f"--spark-master {master!r} is not a Spark master URL",
            fix="use local[*], local-cluster[N,C,MB], spark://HOST:PORT, yarn or k8s://URL",
        )
    if master in _SESSIONS:
        return _SESSIONS[master]
    for other in list(_SESSIONS):  # one SparkContext per JVM: stop a session on another master first
        stop_session(other)
    import warnings

    with warnings.catch_warnings():  # PySpark warns about pandas >= 3; the reduction never converts to pandas
        warnings.filterwarnings("ignore", message="PySpark does not yet fully support pandas", category=FutureWarning)
        from pyspark.sql import SparkSession

        builder = (
            SparkSession.builder.master(master).appName("harness-reduce")
            .config("spark.ui.enabled", "false").config("spark.ui.showConsoleProgress", "false")
            .config("spark.sql.shuffle.partitions", conf.pop("spark.sql.shuffle.partitions", "8"))
            .config("spark.driver.memory", conf.pop("spark.driver.memory", "1g"))
        )
        for k, v in conf.items():
            builder = builder.config(k, v)
        try:
            spark = builder.getOrCreate()
        except Exception as exc:  # the JVM did not start or refused the master: one line, no Python trace
            raise HarnessInputError(
                f"Spark did not start on master {master!r} ({' '.join(str(exc).split())[:300]})",
                fix="check --spark-master (local[*], local-cluster[N,C,MB], spark://HOST:PORT, yarn, k8s://URL) and "
                "that Java runs; or use --engine duckdb",
            ) from None
    spark.sparkContext.setLogLevel("OFF")  # failures reach the user as one-line errors, not JVM traces
    _SESSIONS[master] = spark
    return spark


def stop_session(master: str) -> None:
    spark = _SESSIONS.pop(master, None)
    if spark is not None:
        spark.stop()


@atexit.register
def _stop_all() -> None:
    for master in list(_SESSIONS):
        stop_session(master)


def _quote(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


class SparkRunner:
    """Runs the reduction's SQL in Spark SQL over the input files."""

    name = "spark"

    def __init__(self, inputs: Inputs, *, master: str = "local[*]", **conf: str) -> None:
        self.inputs = inputs
        self.master = master
        self.spark = session(master, **conf)
        self._df: Any = None

    def _reader(self) -> Any:
        from pyspark.sql import functions

        paths = list(self.inputs.paths)
        r = self.spark.read
        if self.inputs.hive:
            base = [g for g in self.inputs.given if os.path.isdir(g)]
            if base:
                r = r.option("basePath", base[0])
        if self.inputs.format == "parquet":
            df = r.option("mergeSchema", "true").parquet(*paths)
        elif self.inputs.format in ("csv", "tsv"):
            # RFC 4180 as DuckDB and the in-memory reader read it: quoted fields may hold line breaks and doubled
            # quotes; every value a string (the canonical view casts; ids like 007 keep their text); a row with
            # another number of fields than the header is an error, not padded or cut (FAILFAST)
            df = r.csv(paths, header=True, inferSchema=False, sep="\t" if self.inputs.format == "tsv" else ",",
                       multiLine=True, escape='"', mode="FAILFAST")
        else:
            df = r.json(paths, mode="FAILFAST")  # a malformed line is an error, not a row of nulls
        return df.withColumn("harness_file", functions.col("_metadata.file_path"))

    def _failed(self, exc: Exception, what: str) -> HarnessInputError:
        """Spark's errors (analysis, py4j, a failed job) as one line without the JVM trace; where the inputs are
        local files, the line-by-line readers first name a bad line if there is one (they raise)."""
        raise_bad_line(self.inputs)
        first = " ".join(str(exc).split())[:400]
        fix = ("check that every file is complete and of the one format named by its ending, and the inputs' "
               "columns; or use --engine duckdb / memory")
        if not self.inputs.local:
            fix = ("Spark reads a remote path through the Hadoop filesystem of its scheme (hdfs://, s3a://, gs://, "
                   "abfs://), configured on the cluster; hf:// has none: use --engine duckdb or local copies")
        return HarnessInputError(f"Spark cannot {what} ({first})", source=", ".join(self.inputs.given), fix=fix)

    def _run(self, text: str) -> Any:
        try:
            return self.spark.sql(text)
        except Exception as exc:
            raise self._failed(exc, "run the reduction") from None

    def _collect(self, frame: Any) -> list[Any]:
        try:
            return list(frame.collect())
        except Exception as exc:  # a job fails here (Spark plans lazily): e.g. a malformed record under FAILFAST
            raise self._failed(exc, "run the reduction") from None

    def describe(self) -> list[str]:
        try:
            self._df = self._reader()
        except Exception as exc:
            raise self._failed(exc, "read the input") from None
        return [str(c) for c in self._df.columns if c != "harness_file"]

    def prepare(self, spec: Spec) -> None:
        """Register the source view and the canonical view (the same SQL text as DuckDB's)."""
        if self._df is None:
            self.describe()
        self._df.createOrReplaceTempView(f"{VIEW}_raw")
        self._run(f"SELECT {projection(spec, _quote, 'harness_file')} FROM {VIEW}_raw").createOrReplaceTempView(VIEW)
        self._run(canonical_sql(spec)).createOrReplaceTempView(CANON)

    def typed(self, spec: Spec) -> tuple[str, ...]:
        """The fields whose Spark type is already canonical (:func:`harness.engines.sql.typed_fields`)."""
        if self._df is None:
            self.describe()
        types = {f.name: f.dataType.typeName() for f in self._df.schema.fields}
        return typed_fields(spec, lambda col: types.get(col, ""))

    def classes(self, spec: Spec, *, prepared: bool = False, duplicates: bool = False) -> pd.DataFrame:
        if not prepared:
            self.prepare(spec)
        result = self._run(class_sql(spec, duplicates=duplicates))
        rows = self._collect(result)  # the class table is small; collect() avoids PySpark's pandas conversion
        return pd.DataFrame([tuple(r) for r in rows], columns=result.columns)

    def first(self, text: str) -> tuple[Any, ...] | None:
        rows = self._collect(self._run(text).limit(1))
        return None if not rows else tuple(rows[0])

    def integer_column(self, name: str) -> bool:
        if self._df is None:
            self.describe()
        return name in self._df.columns and self._df.schema[name].dataType.typeName() in (
            "byte", "short", "integer", "long"
        )

    def bad_file(self, condition: str) -> str | None:
        rows = self._collect(self._run(f"SELECT MIN(harness_file) AS f FROM {CANON} WHERE {condition}"))
        return None if not rows or rows[0][0] is None else str(rows[0][0])

    def close(self) -> None:
        """The session stays up for the next reduction in this process (stopped at exit)."""
