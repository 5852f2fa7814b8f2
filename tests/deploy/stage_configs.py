"""The committed prod stage with settings changed, for the tests of the stage checks and of the
settings callback."""

from typing import Any

from deploy import stack, stages

ACCOUNT = "123456789012"  # moto's


def example_outputs(stage: str = "prod") -> dict[str, str]:
    """An example owner's stack outputs (what infra/template.yaml gives with a domain)."""
    host = "alexrivera.example.com" if stage == "prod" else f"{stage}.alexrivera.example.com"
    return {
        "TableName": f"resume-site-{stage}",
        "SiteUrl": f"https://{host}",
        "StaticBucketName": f"resume-site-{stage}-static-{ACCOUNT}",
        "StaticDomain": host,
    }


def deployed(stage: str = "prod") -> dict[str, Any]:
    """The committed stage as a deploy gives it to Zappa, for the example owner's account."""
    environment = stack.stage_environment(outputs=example_outputs(stage), stack="example")
    config = stages.stage_config(stage=stage)
    return stack.as_deployed(config, stage=stage, account=ACCOUNT, environment=environment)


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
