"""report.html in headless Chromium: no console errors, every figure decodes, log strings stay text."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from test_report import EVIL, write_rollouts

from harness.cli import main

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

PROBE = """
<script>
window.__errors = [];
window.addEventListener('error', e => window.__errors.push(String(e.message || e.type)), true);
window.addEventListener('load', () => {
  const imgs = Array.from(document.images);
  const out = {
    images: imgs.length,
    decoded: imgs.filter(i => i.complete && i.naturalWidth > 0 && i.naturalHeight > 0).length,
    figures: imgs.map(i => i.dataset.figure),
    scripts: document.scripts.length,
    evilAsText: document.body.innerText.includes(%s),
    errors: window.__errors,
  };
  const pre = document.createElement('pre');
  pre.id = 'probe-result';
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
});
</script>
"""


def run_chromium(page: Path, profile: Path) -> tuple[str, str]:
    assert CHROMIUM is not None
    cmd = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--user-data-dir={profile}",
        "--enable-logging=stderr",
        "--v=0",
        "--virtual-time-budget=10000",
        "--dump-dom",
        page.as_uri(),
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout, proc.stderr


@pytest.mark.skipif(
    CHROMIUM is None, reason="chromium is not installed (apt-get install chromium; .ci/run does)"
)
def test_report_html_renders_in_headless_chromium(tmp_path: Path) -> None:
    src = write_rollouts(tmp_path / "log.csv")
    out = tmp_path / "out"
    assert (
        main(
            ["report", str(src), "--out", str(out), "--bootstrap", "20", "--fits", "beta_binomial", "--quiet"]
        )
        == 0
    )
    html = (out / "report.html").read_text(encoding="utf-8")
    figures_written = sorted(p.stem for p in (out / "figures").glob("*.png"))

    # 1. the report as written: the log's script tag must stay text in the live DOM
    dom, log = run_chromium(out / "report.html", tmp_path / "profile-a")
    assert "<script" not in dom.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in dom
    assert not re.search(r"CONSOLE.*(error|Uncaught)", log, re.IGNORECASE), log[-2000:]

    # 2. the same page with a probe appended: every image decoded, no errors, the answer visible as text
    probe = out / "probe.html"
    probe.write_text(
        html.replace("</body>", PROBE % json.dumps(EVIL).replace("<", "\\u003c") + "</body>"),
        encoding="utf-8",
    )
    dom, log = run_chromium(probe, tmp_path / "profile-b")
    match = re.search(r'<pre id="probe-result">(.*?)</pre>', dom, re.DOTALL)
    assert match, dom[-2000:]
    result = json.loads(match.group(1).replace("&quot;", '"').replace("&amp;", "&"))
    assert result["images"] == len(figures_written) >= 4
    assert result["decoded"] == result["images"]
    assert sorted(result["figures"]) == figures_written
    assert result["scripts"] == 1  # only the probe itself
    assert result["evilAsText"] is True
    assert result["errors"] == []
    assert not re.search(r"Uncaught", log), log[-2000:]
