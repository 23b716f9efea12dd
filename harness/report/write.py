"""Writing a report to a folder: each file via a temporary file and an atomic rename (the only I/O here).

CSV and JSON outputs read back to the same table: :func:`frame_to_csv` quotes a cell holding a carriage return
(pandas' default quoting only looks for the line terminator ``\n``, so a bare ``\r`` split rows on reading),
and JSON is written with ``ensure_ascii=False``. Cells are written as they are: a string from a log that starts
with ``=``, ``+``, ``-`` or ``@`` is not prefixed against spreadsheet formula injection, because that would change
the data for every program that reads the CSV (see docs/methods/robustness.md). Figure text is cleaned of
control characters before saving (they are invalid in SVG's XML and render as missing glyphs in PNG), and a
label that is not valid mathtext is drawn as plain text.
"""

from __future__ import annotations

import io
import json
import math
import os
import warnings
from collections.abc import Callable
from typing import Any

from matplotlib.figure import Figure

from harness._atomic import frame_to_csv, lock_folder, unlock_folder, write_bytes_atomic, write_error
from harness._terminal import clean
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
    try:
        os.makedirs(out_dir, exist_ok=True)
        lock_folder(out_dir)  # before anything is created in it
        os.makedirs(os.path.join(out_dir, "figures"), exist_ok=True)
    except OSError as exc:
        raise write_error(out_dir, exc) from None


def _clean_figure_text(figure: Figure) -> None:
    """Control characters in figure text as visible escapes; labels that are not valid mathtext drawn plainly."""
    from matplotlib.mathtext import MathTextParser
    from matplotlib.text import Text

    parser = None
    for text in figure.findobj(Text):
        s = text.get_text()
        if not s:
            continue
        cleaned = clean(s, keep_newlines=True)
        if cleaned != s:
            text.set_text(cleaned)
        if "$" in cleaned and text.get_parse_math():
            parser = parser or MathTextParser("path")
            try:
                parser.parse(cleaned)
            except ValueError:
                text.set_parse_math(False)


def figure_bytes(figure: Figure, fmt: str, *, dpi: float | None = None) -> bytes:
    """The figure rendered to PNG or SVG bytes (no timestamps, so reruns give identical files)."""
    buf = io.BytesIO()
    metadata: dict[str, Any] = {"Date": None} if fmt == "svg" else {"Software": None}
    _clean_figure_text(figure)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"Glyph \d+ .*missing from", category=UserWarning)
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
    try:
        return _write_all(report, out_dir, progress)
    finally:
        unlock_folder(out_dir)


def _write_all(report: Report, out_dir: str, progress: Callable[[str], None] | None) -> list[str]:
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
        put(f"{name}.csv", frame_to_csv(frame).encode("utf-8", errors="backslashreplace"))
    summary = dict(report.summary)
    summary["files"] = {
        "tables": {f"{name}.csv": report.table_notes.get(name, "") for name in report.tables},
        "figures": {f"figures/{f.name}.png": f.caption for f in report.figures},
    }
    text = json.dumps(_json_safe(summary), indent=2, ensure_ascii=False) + "\n"
    put("summary.json", text.encode("utf-8", errors="backslashreplace"))
    put("report.md", render_markdown(report).encode("utf-8", errors="backslashreplace"))
    put("report.html", render_html(report, images).encode("utf-8", errors="backslashreplace"))
    return written
