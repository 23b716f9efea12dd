"""Wall time of the commands as a user runs them (issue 13), each in a fresh subprocess.

Timed: ``import harness``, ``harness --help``, ``harness curves --help``, ``harness demo``, and ``harness report``
on the Pythia counts (../shared/data/llmonkeys_pythia_math_10k/counts.csv). With ``--baseline DIR`` (a checkout
of an earlier commit, e.g. ``git archive <commit> | tar -x -C DIR``) every command is also timed there, in
alternation with this checkout, and the table gives the ratio baseline / this checkout. The two are timed in
the same session, interleaved, so machine load affects both alike; the load average is printed beside the
numbers. Timings on a shared machine are noisy: read the ratios, and repeat (``--repeat``).

Run: ``python benchmarks/bench_commands.py [--baseline DIR] [--repeat 2] [--skip-demo] [--skip-report]``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]
PYTHIA = HERE.parent / "shared" / "data" / "llmonkeys_pythia_math_10k" / "counts.csv"
RUN = "import sys; from harness.cli import main; sys.exit(main())"


def commands(out: str) -> dict[str, list[str]]:
    """Name -> python arguments (run from the checkout's root so its ``harness`` is imported)."""
    return {
        "import harness": ["-c", "import harness"],
        "harness --help": ["-c", RUN, "--help"],
        "harness curves --help": ["-c", RUN, "curves", "--help"],
        "harness demo": ["-c", RUN, "demo", "--out", f"{out}/demo", "--quiet"],
        "harness report (Pythia counts)": ["-c", RUN, "report", str(PYTHIA), "--out", f"{out}/pythia", "--quiet"],
    }


def time_once(root: Path, args: list[str], out: str) -> float:
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, *args], cwd=root, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if proc.returncode not in (0,) and "--help" not in args:
        raise SystemExit(f"{root}: {' '.join(args[2:])} failed ({proc.returncode}): {proc.stderr[-800:]}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--baseline", type=Path, default=None, help="checkout of an earlier commit to compare with")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--skip-demo", action="store_true")
    parser.add_argument("--skip-report", action="store_true")
    args = parser.parse_args()
    roots = {"this": HERE} | ({"baseline": args.baseline.resolve()} if args.baseline else {})
    scratch = tempfile.mkdtemp(prefix="bench-commands-")
    rows = []
    try:
        for name, argv in commands(f"{scratch}/out").items():
            if (args.skip_demo and "demo" in name) or (args.skip_report and "report" in name):
                continue
            if "report" in name and not PYTHIA.exists():
                print(f"{name}: skipped ({PYTHIA} not found)")
                continue
            times: dict[str, list[float]] = {k: [] for k in roots}
            load = os.getloadavg()[0]
            for _ in range(args.repeat):
                for label, root in roots.items():  # interleaved: both see the same load
                    times[label].append(time_once(root, argv, f"{scratch}/out"))
            row = {"command": name, "load": load} | {k: statistics.median(v) for k, v in times.items()}
            rows.append(row)
            line = f"{name:32s} this {row['this']:6.2f} s"
            if "baseline" in row:
                line += f"   baseline {row['baseline']:6.2f} s   ratio {row['baseline'] / row['this']:5.1f}x"
            print(line + f"   (load average {load:.1f}, {os.cpu_count()} CPUs)", flush=True)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
