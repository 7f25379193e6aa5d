"""The offline HTML report of the published reporting warehouse.

- :mod:`~cxpipe.report.data`: the frames of each section, read from ``warehouse/reporting.duckdb``;
- :mod:`~cxpipe.report.charts`: the plotly charts, as HTML fragments;
- :mod:`~cxpipe.report.render`: the page (jinja2, autoescape on, plotly.js embedded) and where it is written.

Written after every publication by the ``report`` task of ``cx_transform_publish`` and on demand by
``cxpipe report`` (``make report``). The data-quality section reads :mod:`cxpipe.status`.
"""

from cxpipe.report.render import REPORT_NAME, ReportError, render_report, report_files, reports_dir, write_report

__all__ = ["REPORT_NAME", "ReportError", "render_report", "report_files", "reports_dir", "write_report"]
