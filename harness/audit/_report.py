"""Audit output: one figure per claim, Markdown and self-contained HTML sections, the CSV of fits.

The only module of the audit that does I/O. Every string that comes from a data file is escaped (html.escape
in
HTML; pipes and angle brackets in Markdown). Files are written through a temporary file and an atomic rename.
"""

from __future__ import annotations

import base64
import html
import io
import os
import re
import shutil
import tempfile
import textwrap
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from harness._atomic import frame_to_csv, write_bytes_atomic
from harness._validation import HarnessInputError

if TYPE_CHECKING:
    from harness.audit import AuditResult
    from harness.audit._audit import ClaimAudit

MARKERS = {"pass@k": "o", "maj@k": "s", "rerank@k": "^", "g-pass@k": "D", "accuracy": "o"}
LINESTYLES = ("-", "--", ":", "-.")
METHODS_NOTE = (
    "Each claim is tested against plain independent sampling: every question has its own success probability p "
    "and samples are independent. Numbers from one set of samples per question are checked as such: exact "
    "constraints up to rounding (pass@k non-decreasing in k, maj@k <= coverage, the pooled-estimator hull) and a "
    "joint first-success test with the multinomial covariance as an upper bound; the reading 'each number a "
    "separate run' is reported beside it. A distribution-free linear programme asks whether any spread of p (and, "
    "for majority vote, any share of wrong answers on one wrong answer and of unparsed samples) reproduces the "
    "points within noise; beta-family members are fitted by generalised least squares where they have degrees of "
    "freedom left. Methods, size and power: docs/methods/audit.md."
)


def claim_figure(audit: ClaimAudit) -> Figure:
    fig = Figure(figsize=(6.4, 4.2), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    cur = audit.curves
    band = cur[cur["kind"] == "bound:any i.i.d. model"] if len(cur) else cur
    for j, (met, grp) in enumerate(band.groupby("metric", sort=False)):
        g = grp.sort_values("x")
        ax.fill_between(
            g["x"],
            g["ci_low"],
            g["ci_high"],
            color="0.85" if j == 0 else "0.93",
            hatch=None if j == 0 else "///",
            edgecolor="0.6",
            linewidth=0.0,
            label=f"{met}: range any i.i.d. model allows",
        )
    fits = cur[cur["kind"].astype(str).str.startswith("fit:")] if len(cur) else cur
    for j, (key, grp) in enumerate(fits.groupby(["kind", "metric"], sort=False)):
        kind, met = str(key[0]), str(key[1])
        g = grp.sort_values("x")
        if j == 0 and g["ci_low"].notna().any():
            ax.plot(
                g["x"],
                g["ci_low"],
                color="0.35",
                linestyle=(0, (1, 2)),
                linewidth=0.9,
                label=f"{kind.removeprefix('fit:')}: 95% band, another draw of the questions",
            )
            ax.plot(g["x"], g["ci_high"], color="0.35", linestyle=(0, (1, 2)), linewidth=0.9)
        ax.plot(
            g["x"],
            g["value"],
            color="black" if met == "maj@k" or len(set(fits["metric"])) == 1 else "0.45",
            linestyle=LINESTYLES[j % len(LINESTYLES)],
            linewidth=1.3,
            label=f"{met} {kind.removeprefix('fit:')}",
        )
    pts = audit.points
    for met, grp in pts.groupby("metric", sort=False):
        face = "white" if met in ("rerank@k", "g-pass@k") else "black"
        ax.errorbar(
            grp["x"],
            grp["value"],
            yerr=1.96 * grp["sigma"],
            fmt=MARKERS.get(str(met), "o"),
            color="black",
            markerfacecolor=face,
            markersize=6,
            capsize=3,
            linewidth=1,
            zorder=5,
            label=f"published {met}" + (" (lower bound on coverage)" if met == "rerank@k" else "") + " +/- 1.96 SE",
        )
        if met == "g-pass@k":
            for r in grp.itertuples():
                ax.annotate(
                    str(r.label).split(" ")[-1],
                    (r.x, r.value),
                    textcoords="offset points",
                    xytext=(6, -3),
                    fontsize=7,
                )
    xs = pd.concat([pts["x"], cur["x"]]) if len(cur) else pts["x"]
    xs = xs[np.isfinite(xs.astype(float)) & (xs.astype(float) > 0)]
    if len(xs) and audit.x_label != "setting":
        ax.set_xscale("log")
        ax.set_xlim(float(xs.min()) / 1.5, float(xs.max()) * 1.5)
    ax.set_ylim(0, 100)
    ax.set_xlabel(audit.x_label)
    ax.set_ylabel("accuracy (% of questions)")
    ax.set_title("\n".join(textwrap.wrap(f"{audit.title} - {audit.verdict}", 70)), fontsize=9)
    ax.grid(True, which="major", color="0.9", linewidth=0.6)
    ax.legend(fontsize=6.5, loc="best", framealpha=0.9)
    fig.tight_layout()
    return fig


def _source(a: ClaimAudit) -> str:
    parts = [p for p in (a.source, a.citation) if p]
    return "; ".join(parts) if parts else "not stated"


def _png(fig: Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    return buf.getvalue()


def _md(text: object) -> str:
    s = str(text)
    return s.replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;").replace("\n", " ")


def _slug(cid: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", cid).strip("-") or "claim"


def _fmt(v: object, digits: int = 1) -> str:
    if isinstance(v, (float, np.floating)):
        return "" if not np.isfinite(v) else f"{v:.{digits}f}"
    return str(v)


def _points_rows(a: ClaimAudit) -> list[list[str]]:
    rows = []
    for r in a.points.to_dict("records"):
        allowed = f"{_fmt(r['allowed_low'])}-{_fmt(r['allowed_high'])}" if np.isfinite(r["allowed_low"]) else "n/a"
        rows.append(
            [
                str(r["label"]),
                f"{r['value']:g}",
                _fmt(r["sigma"]),
                allowed,
                str(r["verification"]) if r["verified"] else "UNVERIFIED: " + str(r["verification"]),
            ]
        )
    return rows


POINT_HEADER = [
    "number",
    "published %",
    "SE (points)",
    "allowed by i.i.d. given the others (%)",
    "verification",
]
FIT_HEADER = [
    "family",
    "wrong answers",
    "mean",
    "concentration",
    "w0",
    "w1",
    "phi",
    "fit",
    "status",
    "slope/decade",
    "R^2",
    "straight decades",
]


def _fit_rows(a: ClaimAudit) -> list[list[str]]:
    rows = []
    for r in a.fits.to_dict("records"):
        rows.append(
            [
                str(r["family"]),
                str(r["wrong_answers"]),
                _fmt(r["mean"], 3),
                _fmt(r["concentration"], 3),
                _fmt(r["w0"], 3),
                _fmt(r["w1"], 3),
                _fmt(r["phi"], 2),
                str(r["statistic"]),
                str(r["status"]),
                _fmt(r["slope_per_decade"]),
                _fmt(r["r2"], 2),
                _fmt(r["straight_decades"]),
            ]
        )
    return rows


def _summary_rows(result: AuditResult) -> list[list[str]]:
    rows = []
    for a in result.claims:
        q = a.points["k"].size
        rows.append([a.claim_id, a.verdict, a.basis, str(q)])
    return rows


SUMMARY_HEADER = ["claim", "verdict", "rests on", "numbers"]


def _counts_line(result: AuditResult) -> str:
    counts = pd.Series([a.verdict for a in result.claims]).value_counts()
    return f"{len(result.claims)} claims: " + ", ".join(f"{int(n)} {v}" for v, n in counts.items()) + "."


VERDICT_NOTE = (
    "Verdicts: inconsistent (a check failed: no i.i.d. sampling reproduces the numbers, under the reading named); "
    "consistent (checks that could have failed passed; the power they had against sequential refinement at the "
    "claim's own size is stated); passes by construction (pooled symmetric estimators such as the unbiased "
    "pass@k or G-Pass meet every moment check whatever the model did); not testable (too few numbers, lower bounds "
    "only, or not repeated sampling). Exchangeable dependence between a question's samples (shared batches or "
    "seeds) cannot be seen in aggregate curves at all."
)


def render_markdown(result: AuditResult, figure_paths: dict[str, str]) -> str:
    out = [
        "# Audit of published test-time-compute claims",
        "",
        METHODS_NOTE,
        "",
        VERDICT_NOTE,
        "",
        _counts_line(result),
        "",
        "| " + " | ".join(SUMMARY_HEADER) + " |",
        "|" + "---|" * len(SUMMARY_HEADER),
    ]
    out += ["| " + " | ".join(_md(c) for c in row) + " |" for row in _summary_rows(result)]
    out += ["", "## Per-claim detail"]
    for a in result.claims:
        out += [
            "",
            f"<details><summary>{_md(a.claim_id)}: {a.verdict}</summary>",
            "",
            f"### {_md(a.title)}",
            "",
            f"`{_md(a.claim_id)}` - **{a.verdict}**. {_md(a.summary)}",
            "",
            f"Source: {_md(_source(a))}",
            "",
        ]
        out += ["| " + " | ".join(POINT_HEADER) + " |", "|" + "---|" * len(POINT_HEADER)]
        out += ["| " + " | ".join(_md(c) for c in row) + " |" for row in _points_rows(a)]
        out += ["", "Evidence:", ""] + [f"- {_md(e)}" for e in a.evidence]
        if a.claim_id in figure_paths:
            out += ["", f"![{_md(a.claim_id)}]({figure_paths[a.claim_id]})"]
        if len(a.fits):
            out += ["", "| " + " | ".join(FIT_HEADER) + " |", "|" + "---|" * len(FIT_HEADER)]
            out += ["| " + " | ".join(_md(c) for c in row) + " |" for row in _fit_rows(a)]
        out += ["", "</details>"]
    return "\n".join(out) + "\n"


def _table_html(header: list[str], rows: list[list[str]]) -> str:
    h = "".join(f"<th>{html.escape(c)}</th>" for c in header)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{h}</tr></thead><tbody>{body}</tbody></table>"


def render_html(result: AuditResult, pngs: dict[str, bytes]) -> str:
    e = html.escape
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        "<title>Audit of published test-time-compute claims</title><style>",
        "body{font-family:sans-serif;max-width:70em;margin:auto;padding:1em;line-height:1.4}",
        "table{border-collapse:collapse;margin:0.5em 0;font-size:0.85em}",
        "td,th{border:1px solid #999;padding:2px 6px;vertical-align:top}",
        "details{margin:0.3em 0}summary{cursor:pointer}",
        ".consistent{font-weight:bold}.inconsistent{font-weight:bold;text-decoration:underline}",
        "img{max-width:100%}</style></head><body>",
        "<h1>Audit of published test-time-compute claims</h1>",
        f"<p>{e(METHODS_NOTE)}</p>",
        f"<p>{e(VERDICT_NOTE)}</p>",
        f"<p>{e(_counts_line(result))}</p>",
    ]
    rows = _summary_rows(result)
    head = "".join(f"<th>{e(c)}</th>" for c in SUMMARY_HEADER)
    body = "".join(
        f"<tr><td><a href='#{e(_slug(r[0]))}'>{e(r[0])}</a></td>" + "".join(f"<td>{e(c)}</td>" for c in r[1:]) + "</tr>"
        for r in rows
    )
    parts.append(f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")
    parts.append("<h2>Per-claim detail</h2>")
    for a in result.claims:
        parts += [
            f"<details id='{e(_slug(a.claim_id))}'><summary>{e(a.claim_id)}: "
            f"<span class='{e(a.verdict.replace(' ', '-'))}'>{e(a.verdict)}</span> ({e(a.basis)})</summary>",
            f"<h3>{e(a.title)}</h3>",
            f"<p>{e(a.summary)}</p>",
            f"<p>Source: {e(_source(a))}</p>",
            _table_html(POINT_HEADER, _points_rows(a)),
            "<p>Evidence:</p><ul>" + "".join(f"<li>{e(x)}</li>" for x in a.evidence) + "</ul>",
        ]
        if a.claim_id in pngs:
            b64 = base64.b64encode(pngs[a.claim_id]).decode("ascii")
            parts.append(f"<img alt='{e(a.title)}' src='data:image/png;base64,{b64}'>")
        if len(a.fits):
            parts.append(_table_html(FIT_HEADER, _fit_rows(a)))
        parts.append("</details>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def write_audit(result: AuditResult, out_dir: str) -> list[str]:
    """Render everything in memory, then write: into a new folder through a temporary sibling folder and one
    rename (a failed run leaves nothing), into an existing folder file by file, each atomically."""
    if os.path.exists(out_dir) and not os.path.isdir(out_dir):
        raise HarnessInputError("exists and is not a folder", source=out_dir, fix="give a folder for --out")
    files: dict[str, bytes] = {}
    pngs: dict[str, bytes] = {}
    rel: dict[str, str] = {}
    used: set[str] = set()
    for a in result.claims:
        if a.verdict == "passes by construction":  # nothing beyond the points table to show
            continue
        name = _slug(a.claim_id)
        while name in used:
            name += "-x"
        used.add(name)
        png = _png(a.figure())
        pngs[a.claim_id] = png
        rel[a.claim_id] = f"figures/{name}.png"
        files[rel[a.claim_id]] = png
    files["audit.md"] = render_markdown(result, rel).encode("utf-8", errors="backslashreplace")
    files["audit.html"] = render_html(result, pngs).encode("utf-8", errors="backslashreplace")
    files["audit_verdicts.csv"] = frame_to_csv(result.verdicts()).encode("utf-8", errors="backslashreplace")
    files["audit_fits.csv"] = frame_to_csv(result.fits_table()).encode("utf-8", errors="backslashreplace")
    target = os.path.abspath(out_dir)
    fresh = not os.path.exists(target)
    folder = tempfile.mkdtemp(dir=os.path.dirname(target), prefix=".tmp-audit-") if fresh else target
    try:
        os.makedirs(os.path.join(folder, "figures"), exist_ok=True)
        for name, data in files.items():
            write_bytes_atomic(os.path.join(folder, name), data)
        if fresh:
            os.chmod(folder, 0o777 & ~_umask())
            os.rename(folder, target)
    except BaseException:
        if fresh:
            shutil.rmtree(folder, ignore_errors=True)
        raise
    return [os.path.join(out_dir, name) for name in files]


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
