"""The public surface: names in harness.__all__ and the CLI subcommands stay as documented."""

from __future__ import annotations

import pytest

import harness
import harness.report
from harness.cli import build_parser

PUBLIC = {
    "Analysis",
    "AuditResult",
    "ClaimAudit",
    "ColumnMap",
    "Comparison",
    "HarnessInputError",
    "Loaded",
    "QuestionCounts",
    "__version__",
    "analyse",
    "at_least_m_of_k",
    "audit_claims",
    "best_at_k",
    "compare_at_matched_compute",
    "compute_curves",
    "concat_counts",
    "default_ks",
    "g_pass_at_k",
    "load",
    "load_claims",
    "load_many",
    "maj_all_wrong_agree",
    "maj_all_wrong_differ",
    "maj_at_k",
    "maj_at_k_one",
    "pass_at_k",
    "pass_at_k_all",
    "pass_at_k_variance",
    "pass_hat_k",
    "rollouts_to_counts",
    "validate_rollouts",
    "write_audit",
}


def test_public_names_are_pinned() -> None:
    assert set(harness.__all__) == PUBLIC, sorted(PUBLIC ^ set(harness.__all__))
    for name in harness.__all__:
        assert hasattr(harness, name), name


def test_report_api() -> None:
    assert set(harness.report.__all__) == {
        "Report",
        "ReportFigure",
        "ReportOptions",
        "ReportTable",
        "Section",
        "build_report",
        "write_report",
    }


@pytest.mark.parametrize("command", ["curves", "report", "compare", "demo", "audit"])
def test_subcommands_are_registered(command: str) -> None:
    parser = build_parser()
    with pytest.raises(SystemExit) as exc:
        parser.parse_args([command, "--help"])
    assert exc.value.code == 0
