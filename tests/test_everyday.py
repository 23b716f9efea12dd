"""Everyday use (issue 13): the output rules of every command, hints that name the right option, quick help,
progress on stderr, compare budgets within the logged range and compute matched in tokens when samples differ in
cost, figures on a fair y-scale."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import PolyCollection

from harness.cli import COMMANDS, SUMMARIES, build_parser, main
from harness.commands import _common
from harness.compare import budget_grid, compare_at_matched_compute
from harness.report import figures as fig_lib
from harness.tables import QuestionCounts, concat_counts

ROOT = Path(__file__).resolve().parents[1]


def two_runs(tmp_path: Path, *, tokens: tuple[float, float] | None = None, n: int = 32) -> list[str]:
    """Two count tables over the same three questions; optional tokens per sample for each."""
    paths = []
    for name, c, t in (("a", [1, 8, 30], None if tokens is None else tokens[0]),
                       ("b", [4, 16, 31], None if tokens is None else tokens[1])):
        frame = pd.DataFrame({"question_id": ["x", "y", "z"], "n": n, "c": [min(v, n) for v in c]})
        if t is not None:
            frame["tokens"] = frame["n"] * t
        frame.to_csv(tmp_path / f"{name}.csv", index=False)
        paths.append(str(tmp_path / f"{name}.csv"))
    return paths


def tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


# ------------------------------------------------------------------------------------------- output rules
def test_a_failed_run_creates_no_folder(tmp_path: Path) -> None:
    for command in ("report", "compare"):
        out = tmp_path / f"err-{command}"
        assert main([command, str(tmp_path / "nosuchfile.csv"), "--out", str(out), "--quiet"]) == 2
        assert not out.exists(), sorted(os.listdir(out))
    assert not [p for p in os.listdir(tmp_path) if p.startswith(".tmp-")]


def test_a_failed_run_leaves_an_existing_folder_as_it_was(tmp_path: Path) -> None:
    a, b = two_runs(tmp_path)
    out = tmp_path / "out"
    assert main(["compare", a, b, "--out", str(out), "--bootstrap", "20", "--quiet"]) == 0
    before = tree(out)
    assert main(["compare", a, str(tmp_path / "missing.csv"), "--out", str(out), "--force", "--quiet"]) == 2
    assert tree(out) == before


def test_a_non_empty_folder_needs_force(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a, b = two_runs(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    assert main(["compare", a, b, "--out", str(out), "--quiet"]) == 2
    assert "--force" in capsys.readouterr().err
    assert tree(out) == {"notes.txt": b"mine"}


def test_force_replaces_the_earlier_run_and_keeps_other_files(tmp_path: Path) -> None:
    a, b = two_runs(tmp_path)
    out = tmp_path / "out"
    assert main(["compare", a, b, "--out", str(out), "--metrics", "pass@k,pass^k", "--bootstrap", "0", "--quiet"]) == 0
    assert (out / "figures" / "difference-pass-hat-k.png").exists()
    (out / "notes.txt").write_text("mine")
    assert main(["compare", a, b, "--out", str(out), "--metrics", "pass@k", "--bootstrap", "0", "--quiet",
                 "--force"]) == 0
    assert not (out / "figures" / "difference-pass-hat-k.png").exists()  # the earlier run's figure is gone
    assert not (out / "figures" / "difference-pass-hat-k.svg").exists()
    assert (out / "figures" / "difference-pass-at-k.png").exists()
    assert (out / "notes.txt").read_text() == "mine"  # not written by the harness: left alone
    listed = json.loads((out / _common.MANIFEST).read_text())
    assert "notes.txt" not in listed and "report.html" in listed
    assert set(listed) == {p for p in tree(out) if p not in ("notes.txt", _common.MANIFEST)}
    assert not [p for p in os.listdir(tmp_path) if p.startswith(".tmp-")]


def test_a_manifest_cannot_remove_files_outside_the_folder(tmp_path: Path) -> None:
    a, b = two_runs(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    victim = tmp_path / "victim.txt"
    victim.write_text("keep")
    (out / _common.MANIFEST).write_text(json.dumps(["../victim.txt", str(victim)]))
    assert main(["compare", a, b, "--out", str(out), "--bootstrap", "0", "--quiet", "--force"]) == 0
    assert victim.read_text() == "keep"


def test_a_folder_left_empty_by_an_earlier_check_is_not_in_the_way(tmp_path: Path) -> None:
    a, b = two_runs(tmp_path)
    out = tmp_path / "out"
    (out / "figures").mkdir(parents=True)  # what an older failed run left behind
    assert main(["compare", a, b, "--out", str(out), "--bootstrap", "0", "--quiet"]) == 0
    assert (out / "report.html").exists()


def test_curves_writes_stdout_without_out_and_needs_force_to_overwrite(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    a, _ = two_runs(tmp_path)
    args = ["curves", a, "--metrics", "pass@k", "--kinds", "measured", "--bootstrap", "0", "--quiet"]
    assert main(args) == 0
    table = pd.read_csv(io.StringIO(capsys.readouterr().out))
    assert set(table["model"]) == {"a"}  # no model column: named after the file, not "model"
    target = tmp_path / "curves.csv"
    target.write_text("old")
    assert main([*args, "--out", str(target)]) == 2
    assert target.read_text() == "old" and "--force" in capsys.readouterr().err
    assert main([*args, "--out", str(target), "--force"]) == 0
    assert pd.read_csv(target)["model"].tolist()[0] == "a"
    assert main([*args, "--out", str(tmp_path / "nofolder" / "c.csv")]) == 2
    assert not (tmp_path / "nofolder").exists()


# ---------------------------------------------------------------------------------------- hints that are right
def test_best_of_n_count_table_names_the_block_option(tmp_path: Path) -> None:
    from harness import load

    # Best-of-N layout: n a multiple of 60, every question without a success at the cap of 10,020
    bon = pd.DataFrame({"question_id": ["a", "b", "c", "d"], "n": [60, 180, 10020, 10020], "c": [1, 2, 0, 3]})
    bon.to_csv(tmp_path / "bon.csv", index=False)
    notes = " ".join(load(str(tmp_path / "bon.csv")).notes)
    assert "--stopping first-success-block=60" in notes
    # same n, but a question without a success stopped below the cap: not that rule, so no block hint
    other = bon.assign(c=[0, 2, 0, 3])
    other.to_csv(tmp_path / "other.csv", index=False)
    notes = " ".join(load(str(tmp_path / "other.csv")).notes)
    assert "first-success-block" not in notes and "--stopping adaptive" in notes


def test_demo_names_the_files_it_writes() -> None:
    from harness.report.demo import build_demo

    report = build_demo(bootstrap=0, questions=30, n=50, audit=False)
    files = [p for s in report.sections for p in s.paragraphs if p.startswith("Files: ")]
    assert len(files) == 1
    named = {f.strip() for f in files[0].removeprefix("Files: ").split(",") if f.strip().endswith(".csv")}
    assert named == {f"{name}.csv" for name in report.tables}
    assert "slopes.csv" not in named and "part2_slopes.csv" in named


def test_source_stem() -> None:
    assert _common.source_stem("runs/gpt-4o.jsonl.gz") == "gpt-4o"
    assert _common.source_stem("hf:org/name@test") == "name"


# ----------------------------------------------------------------------------------------------- quick help
def _modules_after(code: str) -> list[str]:
    probe = (
        f"{code}\nimport sys\n"
        "print('MODULES=' + ','.join(m for m in ('numpy', 'pandas', 'scipy', 'numba', 'matplotlib') "
        "if m in sys.modules))"
    )
    proc = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, check=True)
    line = next(x for x in proc.stdout.splitlines() if x.startswith("MODULES="))
    return [m for m in line.removeprefix("MODULES=").split(",") if m]


def test_help_and_import_load_no_numeric_stack() -> None:
    assert _modules_after("import harness") == []
    help_code = "from harness.cli import main\ntry:\n    main(['--help'])\nexcept SystemExit:\n    pass"
    assert _modules_after(help_code) == []
    proc = subprocess.run([sys.executable, "-m", "harness", "--help"], capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0 and all(c in proc.stdout for c in COMMANDS)


def test_a_spawned_worker_importing_main_does_not_rerun_the_command() -> None:
    import runpy

    # multiprocessing's spawn re-imports the main module under this name (the demo's Part 3 worker)
    namespace = runpy.run_module("harness.__main__", run_name="__mp_main__")
    assert callable(namespace["main"])  # imported, not run: no SystemExit


def test_lazy_public_api() -> None:
    import harness

    assert callable(harness.pass_at_k) and "pass_at_k" in dir(harness)
    from harness import QuestionCounts as Counts

    assert Counts is QuestionCounts
    with pytest.raises(AttributeError, match="no attribute 'nosuch'"):
        _ = harness.nosuch  # type: ignore[attr-defined]


def test_summaries_match_each_command_and_choices_match_the_library() -> None:
    from harness.curves import COMPUTE_AXES, KINDS, METRICS
    from harness.estimators.majority import TIES

    sub = next(a for a in build_parser()._actions if a.dest == "command")
    helps = {a.dest: a.help for a in sub._choices_actions}  # type: ignore[attr-defined]
    assert helps == {c: SUMMARIES[c] for c in COMMANDS}
    assert _common.TIES == TIES and _common.CURVE_METRICS == METRICS and _common.CURVE_KINDS == KINDS
    assert _common.COMPUTE_AXES == COMPUTE_AXES
    from harness.answers import EXTRACTORS, NORMALISERS
    from harness.loaders import FORMATS
    from harness.models.spread import FIT_NAMES

    assert _common.FORMATS == FORMATS and _common.FIT_NAMES == FIT_NAMES
    assert _common.EXTRACTORS == EXTRACTORS and _common.NORMALISERS == NORMALISERS


def test_building_the_report_parser_imports_no_heavy_module() -> None:
    """``harness report --help`` and a bad option answer at once: the parser is built from plain constants."""
    import subprocess
    import sys

    code = (
        "import sys; from harness.cli import build_parser; build_parser('report'); build_parser('compare'); "
        "print(sorted(m for m in ('pandas', 'scipy', 'numba', 'matplotlib', 'harness.loaders', 'harness.models') "
        "if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# ------------------------------------------------------------------------------------------------ progress
def test_progress_is_one_line_per_step_off_a_terminal_and_a_bar_on_one() -> None:
    from harness._progress import Progress

    plain = io.StringIO()
    p = Progress(stream=plain, tty=False)
    with p.step("rendering", total=3) as s:
        for _ in range(3):
            s.advance()
    with p.messages("auditing") as say:
        assert say is not None
        say("[1/2] a")
    assert plain.getvalue().splitlines() == ["  rendering", "  auditing", "  [1/2] a"]

    quiet = io.StringIO()
    with Progress(stream=quiet, tty=False, quiet=True).step("x", 2) as s:
        s.advance(2)
    assert quiet.getvalue() == ""

    bar = io.StringIO()
    with Progress(stream=bar, tty=True).messages("auditing") as say:
        assert say is not None
        say("[1/4] first")
        say("[2/4] second")
    assert "2/4" in bar.getvalue() and "auditing" in bar.getvalue()


# ------------------------------------------------------------------------------------------------- compare
def binary(model: str, n: int, c: list[int], tokens_per_sample: float | None = None) -> QuestionCounts:
    qids = [f"q{i}" for i in range(len(c))]
    counts = QuestionCounts.from_binary(np.full(len(c), n), c, model=model, question_id=qids)
    if tokens_per_sample is None:
        return counts
    from dataclasses import replace

    return replace(counts, tokens=np.full(len(c), n * tokens_per_sample))


def test_budgets_stay_on_logged_k() -> None:
    # 4 samples logged per question: at most 4 budgets (k = 1..4), all at whole k, none made up between them
    both = concat_counts([binary("a", 4, [1, 2, 3]), binary("b", 4, [0, 2, 4])])
    t = compare_at_matched_compute(both, metrics=("pass@k",), budgets=12, bootstrap=0).table
    assert t["k_a"].tolist() == [1.0, 2.0, 3.0, 4.0] and not t["interpolated"].any()
    from harness.report.compare_report import pair_sentence

    text = pair_sentence(t, pd.DataFrame(columns=["model_b", "metric", "crossing_compute"]))
    assert "4 budgets, all at logged k" in text and "12" not in text
    # the grid never holds more budgets than the coarser run has logged points in the shared range
    grid = budget_grid(1000, 1.0, 6, 50.0, 50.0, 300.0, 12)
    assert len(grid) == 6 and np.allclose(grid / 50.0, np.round(grid / 50.0))


def test_samples_that_differ_in_cost_are_compared_in_tokens(tmp_path: Path) -> None:
    a = binary("short", 64, [2, 10, 30, 50], tokens_per_sample=100)
    b = binary("long", 64, [4, 20, 40, 60], tokens_per_sample=370)
    comp = compare_at_matched_compute(concat_counts([a, b]), metrics=("pass@k",), compute="auto", bootstrap=0)
    assert comp.compute_unit == "tokens"
    assert comp.notes[0].startswith("Samples differ in cost") and "3.7x" in comp.notes[0]
    assert "matched tokens" in comp.notes[1]
    # asked for samples explicitly: compared per sample, and still told that samples differ in cost
    per_sample = compare_at_matched_compute(concat_counts([a, b]), metrics=("pass@k",), compute="samples", bootstrap=0)
    assert per_sample.compute_unit == "samples" and per_sample.notes[0].startswith("Samples differ in cost")
    # within 10%: samples, and no cost note
    c = binary("c", 64, [4, 20, 40, 60], tokens_per_sample=105)
    same = compare_at_matched_compute(concat_counts([a, c]), metrics=("pass@k",), compute="auto", bootstrap=0)
    assert same.compute_unit == "samples" and not any(n.startswith("Samples differ") for n in same.notes)
    # the command: no --compute given, tokens logged and differing -> matched tokens, said in the headline
    x, y = two_runs(tmp_path, tokens=(100.0, 370.0))
    out = tmp_path / "out"
    assert main(["compare", x, y, "--out", str(out), "--bootstrap", "0", "--quiet"]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["options"]["compute"] == "tokens"
    assert any(line.startswith("Samples differ in cost") for line in summary["headline"])


# ------------------------------------------------------------------------------------------------- figures
def _curve(values: list[float], kind: str = "measured", metric: str = "maj@k") -> pd.DataFrame:
    k = 2.0 ** np.arange(len(values))
    v = np.asarray(values)
    return pd.DataFrame({"model": "m", "metric": metric, "kind": kind, "compute": k, "compute_unit": "samples",
                         "value": v, "ci_low": v - 0.01, "ci_high": v + 0.01})


def test_a_flat_curve_is_drawn_flat() -> None:
    fig = fig_lib.straight_line_figure(_curve([0.771, 0.773, 0.775, 0.776, 0.778]))
    lo, hi = fig.axes[0].get_ylim()
    assert hi - lo >= fig_lib.MIN_SPAN_SHARE - 1e-12 and lo <= 0.771 and hi >= 0.778
    steep = fig_lib.straight_line_figure(_curve([0.1, 0.3, 0.5, 0.7, 0.9]))
    lo, hi = steep.axes[0].get_ylim()
    assert lo <= 0.1 and hi >= 0.9  # a wide curve keeps its own range
    comp = pd.DataFrame({"model_a": "a", "model_b": "b", "metric": "pass@k", "compute": [1.0, 2.0, 4.0],
                         "compute_unit": "samples", "difference": [0.001, 0.002, 0.0015],
                         "ci_low": [0.0, 0.001, 0.0], "ci_high": [0.002, 0.003, 0.003]})
    lo, hi = fig_lib.comparison_figure(comp).axes[0].get_ylim()
    assert hi - lo >= fig_lib.MIN_SPAN_PP - 1e-9


def test_majority_vote_bands_lie_behind_the_measured_line() -> None:
    rows = pd.concat([_curve([0.2, 0.3, 0.35], kind=k) for k in ("measured", "iid")], ignore_index=True)
    fig = fig_lib.curves_figure(rows, metrics=("maj@k",))
    ax = fig.axes[0]
    bands = [c for c in ax.collections if isinstance(c, PolyCollection)]
    lines = {line.get_label(): line for line in ax.get_lines()}
    measured = lines[fig_lib.KIND_STYLES["measured"]["label"]]
    iid = lines[fig_lib.KIND_STYLES["iid"]["label"]]
    assert len(bands) == 2
    assert max(b.get_zorder() for b in bands) < iid.get_zorder() < measured.get_zorder()
