"""Rendering shared by the CLI, the backtest report and the scorecard.

:mod:`~tracker.render.formats` spells every number, date and missing value once;
:mod:`~tracker.render.keystats` builds a backtest's key statistics once for the
terminal and the report; :mod:`~tracker.render.svg` draws the reports' charts as
inline SVG; :mod:`~tracker.render.html` renders the HTML pages from the jinja
templates in ``templates/``. Nothing here prints: the CLI writes what
these functions return.
"""
