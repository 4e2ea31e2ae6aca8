"""What every `lpc` command gets: the global options, turned into settings on first use (the settings
model, pydantic, is imported then, not with this module: see console/quick_settings.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import click

from core.data_dir import data_dir_problem, resolve_data_dir

if TYPE_CHECKING:
    from core.settings import Settings


@dataclass
class CliContext:
    data_dir: str | None = None
    network: str | None = None
    rpc_url: str | None = None
    _settings: Settings | None = field(default=None, repr=False)

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            from core.settings import SettingsError, load_settings  # pydantic: not before the console's first frame

            problem = data_dir_problem(resolve_data_dir(self.data_dir))
            if problem:  # every command stops here, before anything tries to write into it
                raise click.ClickException(problem)
            try:
                self._settings = load_settings(self.data_dir, network=self.network, rpc_url=self.rpc_url)
            except SettingsError as exc:
                raise click.ClickException(str(exc)) from None
        return self._settings

    @property
    def loaded_settings(self) -> Settings | None:
        """The settings when something already loaded them, else None (nothing is read)."""
        return self._settings

    @property
    def data_path(self) -> Path:
        return self.settings.data_dir


pass_ctx = click.make_pass_decorator(CliContext)
