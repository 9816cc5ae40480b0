"""Reports people want to look at: one self-contained HTML page, and PNG figures.

The flow, one module per step: ``series`` groups stored runs by model and machine,
``figdata`` and ``leaderboard`` compute the numbers each figure and table shows,
``document`` gathers them, ``figures`` draws them with matplotlib (imported only
there), ``page`` and ``tables`` write the HTML, ``build`` ties it to a store and files.
``predicted`` asks ``genwatt.predict`` for curves and floors when it can answer;
``provenance`` says how measured, estimated and predicted values look. The comparisons
of ``genwatt mitigate`` have their own three: ``mitigation`` (data and Pareto frontier),
``mitigation_figure`` and ``mitigation_table``.
"""

from __future__ import annotations

from genwatt.report.build import (
    BuiltReport,
    ReportError,
    ReportResult,
    build_report,
    default_report_path,
    write_pngs,
    write_report,
)

__all__ = [
    "BuiltReport",
    "ReportError",
    "ReportResult",
    "build_report",
    "default_report_path",
    "write_pngs",
    "write_report",
]
