"""zappa_settings.json as Zappa reads it: each stage merged over the stage it `extends`.

The file holds one base stage with what the stages share and the deployable stages (dev, prod),
each extending the base with only its differences. Zappa merges a stage over the stage it
extends key by key, top-level keys only (`ZappaCLI.stage_config`): a stage's
`environment_variables` replaces the base's whole object. Everything in deploy/ and the tests
reads a stage through that same code, never the raw JSON entry.

A stage that another stage extends is a base: it is not deployable (the settings callback
refuses every command on it), so it has no function, bucket or role of its own.
"""

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SETTINGS_FILE = ROOT / "zappa_settings.json"


class UnknownStage(LookupError):
    """The stage is not one of the deployable stages of zappa_settings.json."""


def load_settings(*, settings_file: Path = SETTINGS_FILE) -> dict[str, dict[str, Any]]:
    """Every stage of the settings file, as written (unmerged)."""
    return json.loads(settings_file.read_text(encoding="utf-8"))


def base_stages(settings: Mapping[str, Mapping[str, Any]]) -> dict[str, list[str]]:
    """Each stage that other stages extend, with the stages that extend it."""
    bases: dict[str, list[str]] = {}
    for stage, config in sorted(settings.items()):
        if config.get("extends"):
            bases.setdefault(str(config["extends"]), []).append(stage)
    return bases


def deployable_stages(settings: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """The stages that can be deployed: every stage that no other stage extends."""
    return sorted(set(settings) - set(base_stages(settings)))


def merged_stage(*, settings: Mapping[str, Mapping[str, Any]], stage: str) -> dict[str, Any]:
    """One stage's settings merged over what it extends, by Zappa's own code."""
    from zappa.cli import ZappaCLI

    cli = ZappaCLI()
    cli.zappa_settings = settings
    cli.api_stage = stage
    return cli.stage_config


def stage_config(*, stage: str, settings_file: Path = SETTINGS_FILE) -> dict[str, Any]:
    """A deployable stage's settings as Zappa uses them; UnknownStage for any other name."""
    settings = load_settings(settings_file=settings_file)
    stages = deployable_stages(settings)
    if stage not in stages:
        raise UnknownStage(
            f"zappa_settings.json has no deployable stage {stage!r} (stages: {stages})"
        )
    return merged_stage(settings=settings, stage=stage)
