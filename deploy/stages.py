"""zappa_settings.json as Zappa reads it: each stage merged over the base it extends."""

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

SETTINGS_FILE = Path(__file__).resolve().parent.parent / "zappa_settings.json"


class UnknownStage(LookupError):
    """The stage is not one of the deployable stages of zappa_settings.json."""


def load_settings(*, settings_file: Path = SETTINGS_FILE) -> dict[str, dict[str, Any]]:
    """Every stage of the settings file, as written (unmerged)."""
    return json.loads(settings_file.read_text(encoding="utf-8"))


def base_stages(settings: Mapping[str, Mapping[str, Any]]) -> dict[str, list[str]]:
    """Each stage that other stages extend (a base, never deployable), with those stages."""
    bases: dict[str, list[str]] = {}
    for stage, config in sorted(settings.items()):
        if config.get("extends"):
            bases.setdefault(str(config["extends"]), []).append(stage)
    return bases


def deployable_stages(settings: Mapping[str, Mapping[str, Any]]) -> list[str]:
    return sorted(set(settings) - set(base_stages(settings)))


def stage_config(*, stage: str, settings_file: Path = SETTINGS_FILE) -> dict[str, Any]:
    """A deployable stage merged over its base by Zappa's own code; UnknownStage otherwise."""
    from zappa.cli import ZappaCLI

    settings = load_settings(settings_file=settings_file)
    stages = deployable_stages(settings)
    if stage not in stages:
        raise UnknownStage(
            f"zappa_settings.json has no deployable stage {stage!r} (stages: {stages})"
        )
    cli = ZappaCLI()
    cli.zappa_settings, cli.api_stage = settings, stage
    return cli.stage_config
