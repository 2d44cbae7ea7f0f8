"""Settings read once from the environment (``TRACKER_*``) and passed down."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


def _default_home() -> Path:
    from platformdirs import user_data_path

    return user_data_path("tracker", appauthor=False)


class Settings(BaseSettings):
    """Where tracker keeps its data and where it finds the calls.

    ``TRACKER_HOME`` overrides the data directory (the price store, the registry
    imported from HKEX, the outbox ledger); tests pass ``home=`` directly.
    """

    model_config = SettingsConfigDict(env_prefix="TRACKER_", extra="ignore", frozen=True)

    home: Path = Field(default_factory=_default_home)
    recs_dir: Path = Path("recs")
    smtp_password: SecretStr | None = None

    @property
    def scales_dir(self) -> Path:
        return self.recs_dir / "scales"
