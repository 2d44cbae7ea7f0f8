"""Backtests of "follow the broker" portfolios: buy every selected call, sell on the exit rule.

- :mod:`tracker.backtest.schedule`: which calls, and when each is bought and sold;
- :mod:`tracker.backtest.orders`: sizes, board lots, cash and exact costs of every order;
- :mod:`tracker.backtest.orders_nb`: the same order plan compiled with numba (large runs);
- :mod:`tracker.backtest.engine`: the run, step by step (:func:`run_backtest`);
- :mod:`tracker.backtest.portfolio`: the vectorbt run of the order plan, fills checked;
- :mod:`tracker.backtest.trades`: the trades table (``trades.csv``);
- :mod:`tracker.backtest.stats`: statistics from daily values, in numpy;
- :mod:`tracker.backtest.report`: the self-contained HTML report;
- :mod:`tracker.backtest.runs`: run folders, manifests, listing and comparing runs;
- :mod:`tracker.backtest.run`: spec file + call book + price store -> a written run.

See ``docs/backtest.md``. vectorbt and numba are imported only inside the functions
that need them; the reports' charts are inline SVG (:mod:`tracker.render.svg`), with
no plotting library.
"""
