"""The README's promises: the quick-start commands match CI, and the library example runs as written."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_quick_start_has_exactly_two_commands_and_the_test_one_is_what_ci_runs() -> None:
    quick = README.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    commands = re.findall(r"```sh\n(.*?)\n```", quick, re.DOTALL)
    assert len(commands) == 2 and all("\n" not in c for c in commands)
    assert commands[0].endswith("harness demo --out demo-report")
    pytest_cmd = commands[1].rsplit("&& ", 1)[1]
    assert pytest_cmd == "python -m pytest -q"
    assert pytest_cmd in (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert 'pip install -e ".[test]"' in commands[1]


def test_library_example_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    code = README.split("## Library example", 1)[1].split("```python\n", 1)[1].split("```", 1)[0]
    rows = [
        {"question_id": f"q{q}", "answer": "a" if s < q else "b", "correct": s < q}
        for q in range(1, 6)
        for s in range(8)
    ]
    pd.DataFrame(rows).to_csv(tmp_path / "samples.csv", index=False)
    monkeypatch.chdir(tmp_path)
    exec(compile(code, "README.md", "exec"), {"__name__": "readme"})
    assert (tmp_path / "curves.png").stat().st_size > 1000


def test_commands_in_the_cli_table_exist() -> None:
    from harness.cli import COMMANDS

    table = README.split("## Command line", 1)[1].split("## Methods", 1)[0]
    for name in re.findall(r"\| `harness (\w+)", table):
        assert name in COMMANDS
    assert set(re.findall(r"\| `harness (\w+)", table)) == {"curves", "report", "compare", "demo", "audit", "reduce"}


def test_gallery_is_linked_and_present() -> None:
    assert "reports/demo/README.md" in README
    assert (ROOT / "reports" / "demo" / "README.md").exists()
    assert (ROOT / "reports" / "make_gallery.py").exists()
