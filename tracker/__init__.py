"""tracker: track and backtest broker stock recommendations on the Hong Kong exchange."""

__version__ = "0.1.0"
