"""The reduction of per-sample logs to answer-class counts on real engines: one SQL text (``harness.engines.sql``)
run by DuckDB (embedded, the default) or Spark (``local[*]`` or a cluster), and the in-memory pandas path.

``reduce_inputs(paths, engine=...)`` returns a :class:`Reduced` (QuestionCounts, the class table, provenance);
``write_class_counts`` / ``read_class_counts`` store and read the class table as Parquet. See
``docs/methods/engines.md``.
"""

from harness.engines.core import ENGINES, Reduced, reduce_inputs
from harness.engines.store import CLASS_COUNTS_KEY, read_class_counts, write_class_counts

__all__ = ["CLASS_COUNTS_KEY", "ENGINES", "Reduced", "read_class_counts", "reduce_inputs", "write_class_counts"]
