"""The report stage: tidy tables -> figures -> HTML / Markdown / CSV / JSON (the only stage that knows HTML).

- :func:`build_report` (pure: a :class:`Report` value) and :func:`write_report` (the files, atomically);
- :mod:`harness.report.figures`: one function per figure, each taking a tidy table and returning the figure.
"""

from harness.report.build import ReportOptions, build_report
from harness.report.document import Report, ReportFigure, ReportTable, Section
from harness.report.write import write_report

__all__ = [
    "Report",
    "ReportFigure",
    "ReportOptions",
    "ReportTable",
    "Section",
    "build_report",
    "write_report",
]
