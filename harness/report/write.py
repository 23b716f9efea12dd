"""Writing a report to a folder: each file via a temporary file and an atomic rename (the only I/O here)."""

from __future__ import annotations

import io
import json
import math
import os
from collections.abc import Callable
from typing import Any

from matplotlib.figure import Figure

from harness._atomic import write_bytes_atomic
from harness._validation import HarnessInputError
from harness.report.document import Report
from harness.report.render import render_html, render_markdown


def prepare_output_dir(out_dir: str, *, force: bool) -> None:
    """Create ``out_dir``; refuse an existing non-empty folder unless ``force``."""
    if os.path.exists(out_dir) and not os.path.isdir(out_dir):
        raise HarnessInputError(
            "the output path exists and is not a folder", source=out_dir, fix="choose another --out"
        )
    if os.path.isdir(out_dir) and os.listdir(out_dir) and not force:
        raise HarnessInputError(
            "the output folder exists and is not empty",
            source=out_dir,
            fix="choose a new --out folder or pass --force to overwrite its files",
        )
    os.makedirs(os.path.join(out_dir, "figures"), exist_ok=True)


def figure_bytes(figure: Figure, fmt: str, *, dpi: float | None = None) -> bytes:
    """The figure rendered to PNG or SVG bytes (no timestamps, so reruns give identical files)."""
    buf = io.BytesIO()
    metadata: dict[str, Any] = {"Date": None} if fmt == "svg" else {"Software": None}
    figure.savefig(buf, format=fmt, metadata=metadata, dpi=dpi)
    return buf.getvalue()


def _json_safe(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        return _json_safe(value.item())
    return value


def write_report(
    report: Report, out_dir: str, *, force: bool = False, progress: Callable[[str], None] | None = None
) -> list[str]:
    """Write report.html, report.md, summary.json, every table as CSV and every figure as PNG and SVG.

    Returns the paths written, relative to ``out_dir``.
    """
    prepare_output_dir(out_dir, force=force)
    written: list[str] = []

    def put(rel: str, data: bytes) -> None:
        write_bytes_atomic(os.path.join(out_dir, rel), data)
        written.append(rel)

    images: dict[str, bytes] = {}
    for fig in report.figures:
        if progress is not None:
            progress(f"figure {fig.name}")
        images[fig.name] = figure_bytes(fig.figure, "png")
        put(f"figures/{fig.name}.png", images[fig.name])
        engine = fig.figure.get_layout_engine()
        fig.figure.set_layout_engine("none")  # the PNG pass placed everything; the SVG reuses that layout
        try:
            put(f"figures/{fig.name}.svg", figure_bytes(fig.figure, "svg"))
        finally:
            fig.figure.set_layout_engine(engine)
    for name, frame in report.tables.items():
        put(f"{name}.csv", frame.to_csv(index=False).encode("utf-8"))
    summary = dict(report.summary)
    summary["files"] = {
        "tables": {f"{name}.csv": report.table_notes.get(name, "") for name in report.tables},
        "figures": {f"figures/{f.name}.png": f.caption for f in report.figures},
    }
    put("summary.json", (json.dumps(_json_safe(summary), indent=2, ensure_ascii=False) + "\n").encode("utf-8"))
    put("report.md", render_markdown(report).encode("utf-8"))
    put("report.html", render_html(report, images).encode("utf-8"))
    return written
