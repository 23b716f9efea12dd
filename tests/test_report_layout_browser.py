"""Report HTML laid out by headless Chromium at 1,280 px: no table wider than its box unless that box scrolls,
nothing pushes the page sideways, every figure decodes. Skips when chromium is not installed."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from test_report_browser import CHROMIUM

from harness.cli import main
from harness.report import figures as fig_lib
from harness.report.document import Report, ReportFigure, ReportTable, Section
from harness.report.write import write_report

WIDTH = 1280

LAYOUT_PROBE = """
<script>
window.addEventListener('load', () => {
  const vw = window.innerWidth;
  const wraps = Array.from(document.querySelectorAll('.table-wrap'));
  const tables = Array.from(document.querySelectorAll('table'));
  const bad = [];
  for (const t of tables) {
    const box = t.parentElement;
    if (!box.classList.contains('table-wrap')) { bad.push('table outside a .table-wrap'); continue; }
    const wider = t.getBoundingClientRect().width > box.clientWidth + 1;
    const scrolls = ['auto', 'scroll'].includes(getComputedStyle(box).overflowX);
    if (wider && !scrolls) bad.push('table clipped: ' + t.getBoundingClientRect().width + ' > ' + box.clientWidth);
    if (box.getBoundingClientRect().right > vw + 1) bad.push('table box beyond the window');
  }
  // every element outside a table box stays inside the window
  for (const el of document.body.querySelectorAll('*')) {
    if (el.closest('.table-wrap') || el.id === 'probe-result') continue;
    const r = el.getBoundingClientRect();
    if (r.width > 0 && r.right > vw + 1) bad.push(el.tagName + ' ends at ' + Math.round(r.right));
  }
  const imgs = Array.from(document.images);
  const out = {
    innerWidth: vw,
    pageScrollWidth: document.documentElement.scrollWidth,
    tables: tables.length,
    wraps: wraps.length,
    scrolling: wraps.filter(w => w.scrollWidth > w.clientWidth).length,
    images: imgs.length,
    decoded: imgs.filter(i => i.complete && i.naturalWidth > 0 && i.naturalHeight > 0).length,
    bad: bad.slice(0, 20),
  };
  const pre = document.createElement('pre');
  pre.id = 'probe-result';
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
});
</script>
"""


def layout(page: Path, profile: Path) -> dict[str, object]:
    import subprocess

    assert CHROMIUM is not None
    probe = page.with_name("probe-" + page.name)
    probe.write_text(page.read_text(encoding="utf-8").replace("</body>", LAYOUT_PROBE + "</body>"), encoding="utf-8")
    cmd = [
        CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars",
        f"--user-data-dir={profile}", f"--window-size={WIDTH},900", "--virtual-time-budget=10000", "--dump-dom",
        probe.as_uri(),
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    match = re.search(r'<pre id="probe-result">(.*?)</pre>', proc.stdout, re.DOTALL)
    assert match, proc.stdout[-2000:]
    result: dict[str, object] = json.loads(match.group(1).replace("&quot;", '"').replace("&amp;", "&"))
    return result


def wide_report() -> Report:
    """A report with a 40-column table of long numbers, a table of long text cells and a figure."""
    rng = np.random.default_rng(0)
    wide = pd.DataFrame(rng.normal(size=(5, 40)) * 1e6, columns=[f"slope_per_decade_ci_high_{i}" for i in range(40)])
    text = pd.DataFrame({
        "claim_id": ["a-very-long-claim-identifier-without-any-spaces-at-all-" * 3, "b"],
        "summary": ["words " * 80, "x" * 300],
        "value": [0.123456, 7.0],
    })
    curve = pd.DataFrame({"model": "m", "metric": "pass@k", "kind": "measured", "compute": [1.0, 2.0, 4.0],
                          "compute_unit": "samples", "value": [0.2, 0.3, 0.4]})
    figure = ReportFigure("straight", "a figure", fig_lib.straight_line_figure(curve))
    return Report(
        title="Layout check " + "with-a-title-that-has-a-very-long-unbroken-word-" * 3,
        headline=("A headline " * 40,),
        sections=(
            Section("Wide", ("p " * 200,), figures=("straight",),
                    tables=(ReportTable(wide, "wide", csv="wide.csv"), ReportTable(text, "text", csv="text.csv"))),
        ),
        figures=(figure,),
        tables={"wide": wide, "text": text},
        summary={},
    )


needs_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason="chromium is not installed (apt-get install chromium; .ci/run does)"
)


@needs_chromium
def test_wide_tables_scroll_in_their_own_box_at_1280_px(tmp_path: Path) -> None:
    out = tmp_path / "wide"
    out.mkdir()
    write_report(wide_report(), str(out), force=True)
    got = layout(out / "report.html", tmp_path / "profile")
    assert got["innerWidth"] == WIDTH  # the test measures what it says
    assert got["bad"] == [], got["bad"]
    assert got["tables"] == got["wraps"] == 2
    assert got["scrolling"] == 1  # the 40-column table scrolls inside its box (the text table wraps instead)
    assert got["pageScrollWidth"] == WIDTH  # the page never scrolls sideways
    assert got["images"] == got["decoded"] == 1


@needs_chromium
def test_compare_report_fits_1280_px(tmp_path: Path) -> None:
    for name, c in (("a", [1, 8, 30]), ("b", [4, 16, 31])):
        pd.DataFrame({"question_id": ["x", "y", "z"], "n": 32, "c": c}).to_csv(tmp_path / f"{name}.csv", index=False)
    out = tmp_path / "out"
    assert main(["compare", str(tmp_path / "a.csv"), str(tmp_path / "b.csv"), "--out", str(out), "--bootstrap",
                 "20", "--quiet"]) == 0
    got = layout(out / "report.html", tmp_path / "profile")
    assert got["innerWidth"] == WIDTH
    assert got["bad"] == [], got["bad"]
    assert got["pageScrollWidth"] == WIDTH
    assert got["images"] == got["decoded"] >= 1
