"""The domains' policies, made from the settings once per process (app, worker, CLI)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from zoneinfo import ZoneInfo

from bff.earning.service import EarningPolicy
from bff.kernel.config import Settings
from bff.levels.service import LevelPolicy


@dataclass(frozen=True)
class Policies:
    earning: EarningPolicy

    @property
    def levels(self) -> LevelPolicy:
        return self.earning.levels

    @classmethod
    def from_settings(cls, settings: Settings) -> Policies:
        levels = LevelPolicy(
            settings.level_decay_days, settings.level_postpone_days, settings.level_reset_days
        )
        return cls(
            earning=EarningPolicy(
                hold_window=timedelta(seconds=settings.order_hold_seconds),
                zone=ZoneInfo(settings.timezone),
                levels=levels,
            )
        )
