"""deploy/stages.py: zappa_settings.json holds one base stage that dev and prod extend with only
their differences, and every reader gets a stage merged by Zappa's own code."""

import json
from pathlib import Path

import pytest

from deploy import stages

SETTINGS = stages.load_settings()


def write_settings(tmp_path: Path, settings: dict) -> Path:
    path = tmp_path / "zappa_settings.json"
    path.write_text(json.dumps(settings), encoding="utf-8")
    return path


def test_the_committed_file_has_one_base_that_dev_and_prod_extend() -> None:
    assert stages.base_stages(SETTINGS) == {"base": ["dev", "prod"]}
    assert stages.deployable_stages(SETTINGS) == ["dev", "prod"]


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_a_stage_repeats_nothing_the_base_already_says(stage: str) -> None:
    base = SETTINGS["base"]
    repeated = [key for key, value in SETTINGS[stage].items() if key in base and base[key] == value]
    assert repeated == []


def test_a_merged_stage_has_the_base_settings_and_its_own(tmp_path: Path) -> None:
    settings_file = write_settings(
        tmp_path,
        {
            "base": {
                "runtime": "python3.13",
                "memory_size": 512,
                "environment_variables": {"A": "1"},
            },
            "prod": {"extends": "base", "memory_size": 1024, "environment_variables": {"B": "2"}},
        },
    )
    config = stages.stage_config(stage="prod", settings_file=settings_file)

    assert config["runtime"] == "python3.13"
    assert config["memory_size"] == 1024
    # Zappa merges top-level keys only: the stage's object replaces the base's whole.
    assert config["environment_variables"] == {"B": "2"}


def test_the_committed_prod_stage_merges_shared_and_own_settings() -> None:
    config = stages.stage_config(stage="prod")

    assert config["callbacks"] == SETTINGS["base"]["callbacks"]
    assert config["exclude_glob"] == SETTINGS["base"]["exclude_glob"]
    assert config["lambda_concurrency"] == SETTINGS["prod"]["lambda_concurrency"]
    assert config["environment_variables"] == {"DJANGO_ENV": "production"}  # no owner's value


@pytest.mark.parametrize("stage", ["base", "staging"])
def test_a_base_or_unknown_stage_is_not_a_deployable_stage(stage: str) -> None:
    with pytest.raises(stages.UnknownStage, match=rf"no deployable stage '{stage}'.*'dev', 'prod'"):
        stages.stage_config(stage=stage)
