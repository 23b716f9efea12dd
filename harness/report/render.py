"""Render a :class:`~harness.report.document.Report` to self-contained HTML or to Markdown (strings, no I/O).

Every piece of text is escaped: HTML with :func:`html.escape`, Markdown with HTML entities for ``<``, ``>``
and ``&`` (Markdown passes raw HTML through) plus backslashes for the characters that start Markdown syntax in
table cells. The HTML has no scripts and loads nothing from the network; figures are embedded as base64 PNG.
"""

from __future__ import annotations

import base64
import html
import math
from typing import Any

import numpy as np
import pandas as pd

from harness._terminal import clean
from harness.report.document import Report, ReportTable

CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;max-width:1100px;margin:1.5em auto;
padding:0 1em;color:#111;line-height:1.45;overflow-wrap:break-word}
h1{font-size:1.6em;margin-bottom:.1em} h2{font-size:1.25em;border-bottom:1px solid #ccc;padding-bottom:.2em;
margin-top:1.8em} .subtitle{color:#555;margin-top:0}
.headline{background:#f4f4f4;border-left:5px solid #000;padding:.6em 1em;margin:1em 0}
.headline p{margin:.4em 0} figure{margin:1em 0} figure img{max-width:100%;height:auto;border:1px solid #eee}
figcaption{font-size:.9em;color:#333}
.table-wrap{max-width:100%;overflow-x:auto;margin:.6em 0}
table{border-collapse:collapse;font-size:.85em}
th,td{border:1px solid #ccc;padding:.2em .5em;text-align:right}
th{background:#eee;vertical-align:bottom;white-space:normal;overflow-wrap:normal;min-width:3.5em}
td{white-space:nowrap}
td.text{text-align:left;white-space:normal;min-width:10em;max-width:32em;overflow-wrap:anywhere}
.caption{font-size:.9em;color:#333;margin:.2em 0} nav a{margin-right:1em;display:inline-block}
code{background:#f4f4f4;overflow-wrap:anywhere}
"""
"""Wide tables wrap their text cells and headers, and scroll sideways inside their own box (``.table-wrap``)
when they are still wider than the page: the page itself never scrolls sideways and no cell is clipped."""


def format_value(value: Any) -> str:
    """A table cell as text: whole numbers plainly, other numbers to 4 significant digits, NaN as empty."""
    if value is None:
        return ""
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        v = float(value)
        if math.isnan(v):
            return ""
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        if v == round(v) and abs(v) < 1e15:
            return str(round(v))
        return f"{v:.4g}"
    try:
        if pd.isna(value):
            return ""
    except (TypeError, ValueError):
        pass
    return str(value)


def _is_text_column(series: pd.Series) -> bool:
    return not pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)


# ------------------------------------------------------------------------------------------------ HTML
def _html_table(table: ReportTable) -> str:
    frame = table.frame
    shown = frame.head(table.max_rows)
    text_cols = {c for c in shown.columns if _is_text_column(shown[c])}
    # a long snake_case header may break after each underscore (<wbr>), so it does not widen its column
    head = "".join(f"<th>{html.escape(str(c)).replace('_', '_<wbr>')}</th>" for c in shown.columns)
    body = []
    for row in shown.itertuples(index=False):
        cells = []
        for col, value in zip(shown.columns, row, strict=True):
            cls = ' class="text"' if col in text_cols else ""
            cells.append(f"<td{cls}>{html.escape(format_value(value))}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    more = ""
    if len(frame) > len(shown):
        more = f" Showing {len(shown)} of {len(frame)} rows."
    csv = f" Full table: <code>{html.escape(table.csv)}</code>." if table.csv else ""
    return (
        f'<p class="caption">{html.escape(table.caption)}{more}{csv}</p>'
        f'<div class="table-wrap"><table><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table></div>'
    )


def render_html(report: Report, images: dict[str, bytes]) -> str:
    """The report as one HTML document; ``images`` maps figure names to PNG bytes (embedded as base64)."""
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{html.escape(report.title)}</title>",
        f"<style>{CSS}</style></head><body>",
        f"<h1>{html.escape(report.title)}</h1>",
    ]
    if report.subtitle:
        parts.append(f'<p class="subtitle">{html.escape(report.subtitle)}</p>')
    parts.append('<div class="headline" id="answer">')
    parts.extend(f"<p>{html.escape(line)}</p>" for line in report.headline)
    parts.append("</div>")
    nav = " ".join(
        f'<a href="#{html.escape(s.anchor or f"s{i}")}">{html.escape(s.title)}</a>'
        for i, s in enumerate(report.sections)
    )
    parts.append(f"<nav>{nav}</nav>")
    for i, section in enumerate(report.sections):
        parts.append(f'<section id="{html.escape(section.anchor or f"s{i}")}">')
        parts.append(f"<h2>{html.escape(section.title)}</h2>")
        parts.extend(f"<p>{html.escape(p)}</p>" for p in section.paragraphs)
        for name in section.figures:
            fig = report.figure(name)
            data = base64.b64encode(images[name]).decode("ascii")
            parts.append(
                f'<figure><img src="data:image/png;base64,{data}" alt="{html.escape(fig.caption)}" '
                f'data-figure="{html.escape(name)}"><figcaption>{html.escape(fig.caption)} '
                f"(<code>figures/{html.escape(name)}.png</code>, <code>.svg</code>)</figcaption></figure>"
            )
        parts.extend(_html_table(t) for t in section.tables)
        parts.append("</section>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


# -------------------------------------------------------------------------------------------- Markdown
def escape_markdown(text: str, *, in_table: bool = False) -> str:
    """Plain text safe in Markdown: entities for ``& < >``, a backslash before Markdown syntax characters."""
    out = html.escape(text, quote=False)
    for ch in "\\`*_[]#|":
        out = out.replace(ch, "\\" + ch) if ch != "\\" else out.replace("\\", "\\\\")
    if in_table:
        out = out.replace("\r\n", " ").replace("\n", " ").replace("\r", " ")
    return clean(out, keep_newlines=True)  # control characters (ANSI escapes, a bare CR) as visible escapes


def _md_table(table: ReportTable) -> str:
    shown = table.frame.head(table.max_rows)
    header = "| " + " | ".join(escape_markdown(str(c), in_table=True) for c in shown.columns) + " |"
    rule = "|" + "|".join("---" for _ in shown.columns) + "|"
    lines = [header, rule]
    for row in shown.itertuples(index=False):
        lines.append("| " + " | ".join(escape_markdown(format_value(v), in_table=True) for v in row) + " |")
    more = f" Showing {len(shown)} of {len(table.frame)} rows." if len(table.frame) > len(shown) else ""
    csv = f" Full table: `{table.csv}`." if table.csv else ""
    return escape_markdown(table.caption) + more + csv + "\n\n" + "\n".join(lines)


def render_markdown(report: Report, *, figure_dir: str = "figures") -> str:
    """The report as Markdown, figures linked as ``<figure_dir>/<name>.png``."""
    parts = [f"# {escape_markdown(report.title)}", ""]
    if report.subtitle:
        parts += [f"*{escape_markdown(report.subtitle)}*", ""]
    parts += [f"> {escape_markdown(line)}\n>" for line in report.headline]
    parts.append("")
    for section in report.sections:
        parts += [f"## {escape_markdown(section.title)}", ""]
        for p in section.paragraphs:
            parts += [escape_markdown(p), ""]
        for name in section.figures:
            fig = report.figure(name)
            parts += [
                f"![{escape_markdown(fig.caption)}]({figure_dir}/{name}.png)",
                "",
                f"*{escape_markdown(fig.caption)}*",
                "",
            ]
        for t in section.tables:
            parts += [_md_table(t), ""]
    return "\n".join(parts).rstrip() + "\n"
