"""DuckDB, embedded: the default engine of the reduction (one process, all cores, spills to disk past its memory
limit). Also locates bad rows for every engine (file by file, in file order), since it reads local files in place.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Sequence
from typing import Any

from harness._validation import HarnessInputError
from harness.engines.sources import Inputs, raise_bad_line
from harness.engines.sql import CANON, VIEW, Spec, canonical_sql, class_sql, literal, projection, typed_fields

MEMORY_LIMIT = "1GB"
"""DuckDB's memory limit for the reduction (it spills hash tables to a temporary folder beyond it; ``harness reduce
--memory-limit`` sets another). Measured at 10^8 rows with 2.5 M classes (docs/methods/engines.md): on one thread
the class query needs ~0.5-0.65 GB and does not spill at 1 GB; at 768 MB it spills (38 instead of 25 CPU-s); at
512 MB DuckDB 2.0.1 ran out of memory instead of spilling."""

THREADS = 1
"""DuckDB threads for the reduction unless given. Each thread builds its own hash table of (nearly) every class when
every file holds samples of every question (a sampling loop's order), so memory grows with threads, and past the
memory limit several threads spill far more than one. Measured at 10^8 rows, 2.5 M classes, on this 2-core machine
under load: 2 threads 27.1 CPU-s, 1,262 MiB peak, 56 s wall; 1 thread 24.7 CPU-s, 847 MiB, 59 s; with a 768 MB
limit 2 threads took 68 CPU-s and 175 s. ``threads=N`` (``DuckRunner``, ``reduce_inputs``) uses more cores for wall
time where memory allows."""


_INTEGER_TYPES = frozenset(
    {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT"}
)


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def reader_sql(inputs: Inputs, paths: Sequence[str] | None = None, *, row_number: bool = False) -> str:
    """The DuckDB table function reading the inputs (``filename`` as ``harness_file``; optionally row numbers)."""
    files = "[" + ", ".join(literal(p) for p in (paths if paths is not None else inputs.paths)) + "]"
    opts = ["filename = 'harness_file'"]
    if len(paths if paths is not None else inputs.paths) > 1:
        opts.append("union_by_name = true")
    if inputs.hive:
        opts.append("hive_partitioning = true")
    if inputs.format == "parquet":
        if row_number:
            opts.append("file_row_number = true")
        return f"read_parquet({files}, {', '.join(opts)})"
    if inputs.format in ("csv", "tsv"):
        opts.append("delim = " + ("'\\t'" if inputs.format == "tsv" else "','"))
        opts.append("header = true")
        return f"read_csv({files}, {', '.join(opts)})"
    return f"read_json({files}, format = 'newline_delimited', {', '.join(opts)})"


class DuckRunner:
    """Runs the reduction's SQL over the inputs in an embedded DuckDB (optionally memory-limited, spilling)."""

    name = "duckdb"

    def __init__(
        self, inputs: Inputs, *, memory_limit: str = MEMORY_LIMIT, temp_directory: str | None = None,
        threads: int | None = THREADS,
    ) -> None:
        import duckdb

        self.inputs = inputs
        self.con = duckdb.connect(config={"preserve_insertion_order": False})
        self.con.execute("SET enable_progress_bar = false")
        self._own_temp: str | None = None
        if temp_directory is None:  # spill to a private folder under the system temp, removed on close
            self._own_temp = temp_directory = tempfile.mkdtemp(prefix="harness-duckdb-")
        try:
            self.con.execute(f"SET memory_limit = {literal(memory_limit)}")
        except duckdb.Error as exc:
            self.close()
            raise HarnessInputError(
                f"--memory-limit {memory_limit!r} is not a size DuckDB accepts ({' '.join(str(exc).split())})",
                fix="give a number and a unit, e.g. --memory-limit 512MB or 4GB",
            ) from None
        self.con.execute(f"SET temp_directory = {literal(temp_directory)}")
        if threads is not None:
            self.con.execute(f"SET threads = {int(threads)}")
        self._types: dict[str, str] = {}
        self.retried_single_thread = False
        """True when the class query ran out of memory on several threads and was rerun on one."""

    def _sql(self, text: str) -> Any:
        import duckdb

        try:
            return self.con.execute(text)
        except duckdb.Error as exc:
            raise _read_error(exc, self.inputs) from None

    def describe(self) -> list[str]:
        rel = self._sql(f"DESCRIBE SELECT * FROM {reader_sql(self.inputs)}")
        rows = rel.fetchall()
        self._types = {str(r[0]): str(r[1]) for r in rows}
        return [str(r[0]) for r in rows]

    def _ref(self, name: str) -> str:
        # a JSON field holding values of several types (numbers and strings) is read as DuckDB's JSON type:
        # take its text the way the JSON reader of the in-memory path does ('7' and 'x', not '"x"')
        if self._types.get(name) == "JSON":
            return f"json_extract_string({_quote(name)}, '$')"
        return _quote(name)

    def prepare(self, spec: Spec) -> None:
        if not self._types:
            self.describe()
        self._sql(
            f"CREATE OR REPLACE TEMP VIEW {VIEW} AS SELECT {projection(spec, self._ref, 'harness_file')} "
            f"FROM {reader_sql(self.inputs)}"
        )
        self._sql(f"CREATE OR REPLACE TEMP VIEW {CANON} AS {canonical_sql(spec)}")

    def typed(self, spec: Spec) -> tuple[str, ...]:
        """The fields whose DuckDB type is already canonical (:func:`harness.engines.sql.typed_fields`)."""
        if not self._types:
            self.describe()
        return typed_fields(spec, lambda col: self._types.get(col, ""))

    def classes(self, spec: Spec, *, duplicates: bool = False) -> Any:
        """The class query's result as an Arrow table (streamed out of DuckDB in record batches)."""
        self.prepare(spec)
        # streamed out in Arrow batches: a materialised result (millions of classes) would have to fit in DuckDB's
        # memory limit next to the aggregation, which can spill while the result cannot
        import duckdb

        try:
            try:
                out = self._stream(class_sql(spec, duplicates=duplicates))
            except duckdb.OutOfMemoryException:
                # measured (DuckDB 2.0.1, 10^8 rows, 2.5 M string-keyed classes): with 2 threads a bare GROUP BY ran
                # out of memory at 512 MB (the class query also at 1 GB); with 1 thread the bare GROUP BY spilled
                # and finished at 512 MB. So one more try on one thread before giving up
                if self._threads() <= 1:
                    raise
                self.con.execute("SET threads = 1")
                self.retried_single_thread = True
                out = self._stream(class_sql(spec, duplicates=duplicates))
        except duckdb.Error as exc:
            raise _read_error(exc, self.inputs) from None
        return out

    def _stream(self, text: str) -> Any:
        return self.con.sql(text).to_arrow_reader(1 << 17).read_all()

    def _threads(self) -> int:
        row = self.con.execute("SELECT current_setting('threads')").fetchone()
        return int(row[0]) if row else 1

    def first(self, text: str) -> tuple[Any, ...] | None:
        row = self._sql(text).fetchone()
        return None if row is None else tuple(row)

    def integer_column(self, name: str) -> bool:
        return self._types.get(name, "") in _INTEGER_TYPES

    def bad_file(self, condition: str) -> str | None:
        row = self._sql(f"SELECT MIN(harness_file) FROM {CANON} WHERE {condition}").fetchone()
        return None if row is None or row[0] is None else str(row[0])

    def close(self) -> None:
        self.con.close()
        if self._own_temp is not None:
            shutil.rmtree(self._own_temp, ignore_errors=True)


def locate_rows(
    inputs: Inputs, spec: Spec, condition: str, *, files: Sequence[str] | None = None, want: int = 1,
    columns: Sequence[str] = (),
) -> tuple[str, int, tuple[Any, ...]] | None:
    """(file, row, values) of the ``want``-th row in file order meeting ``condition`` (over the canonical view).

    Rows are numbered from 0 within their file (Parquet: DuckDB's ``file_row_number``; CSV/JSON lines: the scan
    order of a single-threaded read). Only the error path runs this, one file at a time.
    """
    import duckdb

    con = duckdb.connect(config={"threads": 1, "preserve_insertion_order": True})
    seen = 0
    try:
        probe = DuckRunner.__new__(DuckRunner)
        probe.inputs, probe.con, probe._types, probe._own_temp = inputs, con, {}, None
        for path in files if files is not None else inputs.paths:
            if "://" not in path and not os.path.exists(path):
                continue
            reader = reader_sql(inputs, [path], row_number=True)
            rn = "file_row_number" if inputs.format == "parquet" else "row_number() OVER () - 1"
            probe._types = {
                str(r[0]): str(r[1]) for r in probe._sql(f"DESCRIBE SELECT * FROM {reader}").fetchall()
            }
            missing = [c for c in spec.fields().values() if c not in probe._types]
            if missing:
                continue
            con.execute(
                f"CREATE OR REPLACE TEMP VIEW {VIEW}_rows AS SELECT *, {rn} AS harness_row FROM {reader}"
            )
            proj = projection(spec, probe._ref, "harness_file")
            con.execute(f"CREATE OR REPLACE TEMP VIEW {VIEW} AS SELECT {proj}, harness_row FROM {VIEW}_rows")
            carry = ["harness_row", "c AS raw_c"]
            carry += [f"{short} AS raw_{short}" for short in ("t", "b", "s") if short in spec.fields()]
            canon = canonical_sql(spec, carry)
            con.execute(f"CREATE OR REPLACE TEMP VIEW {CANON} AS {canon}")
            sel = ", ".join(["harness_row", *columns])
            hits = con.execute(
                f"SELECT {sel} FROM {CANON} WHERE {condition} ORDER BY harness_row LIMIT {int(want - seen)}"
            ).fetchall()
            if seen + len(hits) >= want:
                hit = hits[want - seen - 1]
                return path, int(hit[0]), tuple(hit[1:])
            seen += len(hits)
    finally:
        con.close()
    return None


def _read_error(exc: Exception, inputs: Inputs) -> HarnessInputError:
    text = " ".join(str(exc).split())
    first = text.split(" LINE ")[0][:400]
    if "Out of Memory" in text:
        return HarnessInputError(
            f"DuckDB ran out of memory ({first})", source=", ".join(inputs.given),
            fix="raise the memory limit or let DuckDB spill to a temporary directory",
        )
    raise_bad_line(inputs)  # names the bad line where the line-by-line readers find one (local inputs only)
    fix = ("check that every file is complete and of the one format named by its ending (the line-by-line readers "
           "found no bad line)")
    if not inputs.local:
        fix = ("remote paths need the network and DuckDB's httpfs extension (INSTALL httpfs fetches it from "
               "extensions.duckdb.org); or download the files and give their local paths")
    return HarnessInputError(f"DuckDB cannot read the input ({first})", source=", ".join(inputs.given), fix=fix)
