"""The report as a plain value: headline, sections, tables and figures, rendered to HTML or Markdown elsewhere.

Text in a :class:`Section` is plain text (never markup); renderers escape it. Strings from logs (answers,
model names, question ids) travel only as plain text or table cells, so they can never become markup.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from matplotlib.figure import Figure


@dataclass(frozen=True)
class ReportFigure:
    """A figure with a file stem (``figures/<name>.png`` / ``.svg``) and a caption in plain text."""

    name: str
    caption: str
    figure: Figure


@dataclass(frozen=True)
class ReportTable:
    """A table shown in the report; ``csv`` names the file that holds the full table (if any)."""

    frame: pd.DataFrame
    caption: str
    csv: str | None = None
    max_rows: int = 30


@dataclass(frozen=True)
class Section:
    """A titled block: paragraphs of plain text, then figures (by name), then tables."""

    title: str
    paragraphs: tuple[str, ...] = ()
    figures: tuple[str, ...] = ()
    tables: tuple[ReportTable, ...] = ()
    anchor: str = ""


@dataclass(frozen=True)
class Report:
    """Everything a report shows and every table it writes (name -> frame, written as ``<name>.csv``)."""

    title: str
    headline: tuple[str, ...]
    sections: tuple[Section, ...]
    figures: tuple[ReportFigure, ...]
    tables: dict[str, pd.DataFrame]
    summary: dict[str, Any]
    subtitle: str = ""
    table_notes: dict[str, str] = field(default_factory=dict)
    """How each written table was made (goes into summary.json and the report's file list)."""

    def figure(self, name: str) -> ReportFigure:
        for fig in self.figures:
            if fig.name == name:
                return fig
        raise KeyError(name)
