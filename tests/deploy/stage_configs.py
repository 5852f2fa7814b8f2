"""The committed prod stage with settings changed, for the tests of the stage checks and of the
settings callback."""

from typing import Any

from deploy import stages


def _change(values: dict[str, Any], changes: dict[str, Any]) -> None:
    """Set each changed value in place; None removes the key."""
    for name, value in changes.items():
        if value is None:
            values.pop(name, None)
        else:
            values[name] = value


def prod(**changes: Any) -> dict[str, Any]:
    """The committed prod stage, merged over its base (read afresh on every call), with
    top-level settings changed (None removes one)."""
    config = stages.stage_config(stage="prod")
    _change(config, changes)
    return config


def prod_env(**changes: str | None) -> dict[str, Any]:
    """The committed prod stage with environment variables changed (None removes one)."""
    config = prod()
    _change(config["environment_variables"], changes)
    return config
