"""deploy/rotation.py against moto: the secret rotations (S3, CloudFormation, CloudFront),
each checked at every step to refuse no request the distribution sends. Every `zappa` run is
recorded instead of run."""

import json
from types import SimpleNamespace
from typing import Any

import click
import pytest

from core import edge
from deploy import rotation, stack
from deploy.rotation import ORIGIN_KEY
from tests.deploy.deployed_stage import (
    BUCKET,
    DJANGO,
    NEW_BEFORE,
    OLD,
    STACK,
    STAGE,
    STRANGER,
    TEMPLATE,
    held_secrets,
    origin_stack,
    put_secrets,
    stack_parameters,
)
from tests.deploy.moto_harness import infra_stack_create


def sent(aws: SimpleNamespace, distribution_id: str) -> str | None:
    return rotation.sent_secret(cloudfront=aws.cloudfront, distribution_id=distribution_id)


class Stage:
    """The stage as the rotation changes it, recorded in one log, in order: each S3 put (what
    the object then held), each `zappa update` (what the function then accepts, and what the
    distribution sends), the stack update, and each read of the distribution.

    It also does what moto does not: CloudFormation applies the stack's new OriginSecret to the
    distribution's origin header, and CloudFront then reports the distribution InProgress for
    `propagating` reads before Deployed. And it keeps what the function accepts (the object's
    values at the last `zappa update`), asserting at every change that no request the
    distribution sends, new or old while it propagates, would be refused."""

    def __init__(self, aws: SimpleNamespace, *, distribution_id: str, propagating: int = 2):
        self.aws, self.distribution_id, self.propagating = aws, distribution_id, propagating
        self.log: list[tuple[Any, ...]] = []
        self.lines: list[str] = []
        self.accepts = set(rotation.accepted(held_secrets(aws)))
        self.previous_sent: str | None = None  # still sent by some edge locations
        self.reads_in_progress = 0
        self._update: dict[str, Any] = {}
        self.s3 = aws.session.client("s3")
        self.cloudformation = aws.session.client("cloudformation")
        self.cloudfront = aws.session.client("cloudfront")
        self.s3.meta.events.register("provide-client-params.s3.PutObject", self._put)
        events = self.cloudformation.meta.events
        events.register("provide-client-params.cloudformation.UpdateStack", self._updating)
        events.register("after-call.cloudformation.UpdateStack", self._updated)
        self.cloudfront.meta.events.register(
            "after-call.cloudfront.GetDistribution", self._distribution_read
        )

    def sent_now(self) -> set[str]:
        now = {sent(self.aws, self.distribution_id)}
        return now | ({self.previous_sent} if self.previous_sent else set())

    def zappa(self, *, args: list[str]) -> None:
        assert args == ["update", STAGE]
        self.accepts = set(rotation.accepted(held_secrets(self.aws)))
        self.log.append(("zappa", *args))
        assert self.sent_now() <= self.accepts, "a request through the distribution is refused"

    def _put(self, params: dict[str, Any], **_: Any) -> None:
        assert params["ServerSideEncryption"] == "AES256"
        self.log.append(("put", json.loads(params["Body"])))

    def _updating(self, params: dict[str, Any], **_: Any) -> None:
        self._update = params
        self.log.append(("update_stack", params))

    def _updated(self, http_response: Any, **_: Any) -> None:
        if http_response.status_code != 200:
            return
        (secret,) = [
            parameter["ParameterValue"]
            for parameter in self._update["Parameters"]
            if parameter["ParameterKey"] == "OriginSecret"
        ]
        config = self.aws.cloudfront.get_distribution_config(Id=self.distribution_id)
        origin = config["DistributionConfig"]["Origins"]["Items"][0]
        self.previous_sent = origin["CustomHeaders"]["Items"][0]["HeaderValue"]
        origin["CustomHeaders"]["Items"][0]["HeaderValue"] = secret
        self.aws.cloudfront.update_distribution(
            Id=self.distribution_id,
            IfMatch=config["ETag"],
            DistributionConfig=config["DistributionConfig"],
        )
        self.reads_in_progress = self.propagating
        assert self.sent_now() <= self.accepts, "a request through the distribution is refused"

    def _distribution_read(self, parsed: dict[str, Any], **_: Any) -> None:
        if self.reads_in_progress:
            self.reads_in_progress -= 1
            parsed["Distribution"]["Status"] = "InProgress"
        elif self.previous_sent:
            self.previous_sent = None  # Deployed: every edge location sends the new value
        self.log.append(("get_distribution", parsed["Distribution"]["Status"]))

    def rotate(self, **overrides: Any) -> None:
        arguments = {
            "s3": self.s3,
            "cloudformation": self.cloudformation,
            "cloudfront": self.cloudfront,
            "bucket": BUCKET,
            "stage": STAGE,
            "zappa": self.zappa,
            "echo": self.lines.append,
            "sleep": 0,
        }
        rotation.rotate_origin_secret(**(arguments | overrides))


def expected_update(new: str) -> tuple[str, dict[str, Any]]:
    """The stack update the rotation makes: OriginSecret alone, the rest as it was."""
    parameters = [
        {"ParameterKey": name, "UsePreviousValue": True}
        for name in TEMPLATE["Parameters"]
        if name != "OriginSecret"
    ] + [{"ParameterKey": "OriginSecret", "ParameterValue": new}]
    return (
        "update_stack",
        {
            "StackName": STACK,
            "UsePreviousTemplate": True,
            "Parameters": parameters,
            "Capabilities": ["CAPABILITY_NAMED_IAM"],
            "Tags": stack.secrets_tags(new),  # as make deploy will compare it
        },
    )


# --- rotate-secret --which origin -------------------------------------------------------------
def test_the_origin_secret_rotates_in_three_steps_refusing_no_request(aws) -> None:
    distribution = origin_stack(aws, origin_secret=OLD)
    put_secrets(aws, {"SECRET_KEY": DJANGO, ORIGIN_KEY: OLD, "OTHER": "kept"})
    stage = Stage(aws, distribution_id=distribution)

    stage.rotate()

    new = held_secrets(aws)[ORIGIN_KEY]
    assert stage.log == [
        ("get_distribution", "Deployed"),  # what it sends before anything changes
        ("put", {"SECRET_KEY": DJANGO, ORIGIN_KEY: f"{new},{OLD}", "OTHER": "kept"}),
        ("zappa", "update", STAGE),
        expected_update(new),
        ("get_distribution", "InProgress"),
        ("get_distribution", "InProgress"),
        ("get_distribution", "Deployed"),
        ("put", {"SECRET_KEY": DJANGO, ORIGIN_KEY: new, "OTHER": "kept"}),
        ("zappa", "update", STAGE),
    ]
    assert len(new) >= 32 and new not in {OLD, DJANGO}
    assert sent(aws, distribution) == new
    assert stage.accepts == {new}
    assert stack_parameters(aws)["OriginSecret"] == new
    assert aws.s3.head_object(Bucket=BUCKET, Key=stack.SECRETS_KEY)["ServerSideEncryption"] == (
        "AES256"
    )


def test_the_rotation_prints_each_step_and_its_waits_but_no_value(aws) -> None:
    distribution = origin_stack(aws, origin_secret=OLD)
    put_secrets(aws, {"SECRET_KEY": DJANGO, ORIGIN_KEY: OLD})
    stage = Stage(aws, distribution_id=distribution)

    stage.rotate()

    printed = "\n".join(stage.lines)
    steps = [line.split(" ")[0] for line in stage.lines if line.startswith("[")]
    assert steps == ["[1/3]", "[2/3]", "[3/3]"]
    assert printed.count(f"the distribution {distribution} is InProgress") == 2
    assert f"The distribution {distribution} is Deployed" in printed
    assert stage.lines[-1].startswith("Done:")
    for value in (OLD, DJANGO, held_secrets(aws)[ORIGIN_KEY]):
        assert value not in printed


def test_an_interrupted_rotation_before_the_stack_resumes_with_its_new_value(aws) -> None:
    """The object holds new,old and the distribution still sends the old value: the update that
    makes the function accept both runs again (it may not have finished), then the rest."""
    distribution = origin_stack(aws, origin_secret=OLD)
    put_secrets(aws, {"SECRET_KEY": DJANGO, ORIGIN_KEY: f"{NEW_BEFORE},{OLD}"})
    stage = Stage(aws, distribution_id=distribution)
    stage.accepts = {OLD}  # the interrupted `zappa update` did not finish

    stage.rotate()

    assert stage.log == [
        ("get_distribution", "Deployed"),
        ("zappa", "update", STAGE),
        expected_update(NEW_BEFORE),
        ("get_distribution", "InProgress"),
        ("get_distribution", "InProgress"),
        ("get_distribution", "Deployed"),
        ("put", {"SECRET_KEY": DJANGO, ORIGIN_KEY: NEW_BEFORE}),
        ("zappa", "update", STAGE),
    ]
    assert stage.accepts == {NEW_BEFORE}
    assert any("resuming" in line for line in stage.lines)


def test_an_interrupted_rotation_after_the_stack_finishes_without_a_third_value(aws) -> None:
    """The distribution already sends the new value: the stack has it ("No updates"), the
    distribution is waited for, and the old value is dropped."""
    distribution = origin_stack(aws, origin_secret=NEW_BEFORE)
    put_secrets(aws, {"SECRET_KEY": DJANGO, ORIGIN_KEY: f"{NEW_BEFORE},{OLD}"})
    stage = Stage(aws, distribution_id=distribution)

    stage.rotate()

    assert stage.log == [
        ("get_distribution", "Deployed"),
        expected_update(NEW_BEFORE),  # refused by CloudFormation: nothing to update
        ("get_distribution", "Deployed"),
        ("put", {"SECRET_KEY": DJANGO, ORIGIN_KEY: NEW_BEFORE}),
        ("zappa", "update", STAGE),
    ]
    assert stage.accepts == {NEW_BEFORE}
    assert any("already has it" in line for line in stage.lines)


def test_a_failed_update_stops_safely_and_the_same_command_finishes_the_rotation(aws) -> None:
    distribution = origin_stack(aws, origin_secret=OLD)
    put_secrets(aws, {"SECRET_KEY": DJANGO, ORIGIN_KEY: OLD})
    stage = Stage(aws, distribution_id=distribution)

    def failing(*, args: list[str]) -> None:
        raise rotation.OperationError("`zappa update prod` failed (exit status 1)")

    with pytest.raises(click.ClickException) as stopped:
        stage.rotate(zappa=failing)

    message = stopped.value.format_message()
    assert "the function accepts both values" in message
    assert "`make rotate-secret STAGE=prod WHICH=origin` again" in message
    new, old = rotation.accepted(held_secrets(aws))
    assert (old, sent(aws, distribution)) == (OLD, OLD)

    stage.rotate()

    assert held_secrets(aws)[ORIGIN_KEY] == new
    assert sent(aws, distribution) == new
    assert stage.accepts == {new}


def test_a_failed_last_update_says_to_update_not_to_rotate_again(aws) -> None:
    distribution = origin_stack(aws, origin_secret=OLD)
    put_secrets(aws, {"SECRET_KEY": DJANGO, ORIGIN_KEY: OLD})
    stage = Stage(aws, distribution_id=distribution)
    updates: list[list[str]] = []

    def second_fails(*, args: list[str]) -> None:
        updates.append(args)
        if len(updates) == 2:
            raise rotation.OperationError("`zappa update prod` failed (exit status 1)")
        stage.zappa(args=args)

    with pytest.raises(click.ClickException, match="until `zappa update prod`"):
        stage.rotate(zappa=second_fails)

    assert rotation.accepted(held_secrets(aws)) == [sent(aws, distribution)]


@pytest.mark.parametrize(
    ("object_holds", "distribution_sends", "problem"),
    [
        (OLD, STRANGER, "sends a value other than"),
        (f"{NEW_BEFORE},{OLD}", STRANGER, "sends neither of"),
        (f"{NEW_BEFORE},{OLD},{STRANGER}", OLD, "holds 3 EDGE_ORIGIN_SECRET values"),
        (None, OLD, "holds 0 EDGE_ORIGIN_SECRET values"),
    ],
)
def test_values_that_disagree_stop_the_rotation_before_anything_changes(
    aws, object_holds: str | None, distribution_sends: str, problem: str
) -> None:
    distribution = origin_stack(aws, origin_secret=distribution_sends)
    values = {"SECRET_KEY": DJANGO} | ({ORIGIN_KEY: object_holds} if object_holds else {})
    put_secrets(aws, values)
    stage = Stage(aws, distribution_id=distribution)

    with pytest.raises(click.ClickException, match=problem) as stopped:
        stage.rotate()

    assert "Nothing was changed." in stopped.value.format_message()
    assert [entry[0] for entry in stage.log] == ["get_distribution"]
    assert held_secrets(aws) == values
    assert sent(aws, distribution) == distribution_sends


def test_a_distribution_that_sends_no_origin_secret_has_none_to_rotate(aws) -> None:
    distribution = infra_stack_create(
        cloudformation=aws.cloudformation, cloudfront=aws.cloudfront, stack=STACK
    )
    put_secrets(aws, {"SECRET_KEY": DJANGO, ORIGIN_KEY: OLD})
    stage = Stage(aws, distribution_id=distribution)

    with pytest.raises(click.ClickException, match="sends no X-Origin-Verify"):
        stage.rotate()
    assert stage.log == [("get_distribution", "Deployed")]


def test_without_the_stack_nothing_is_rotated(aws) -> None:
    put_secrets(aws, {"SECRET_KEY": DJANGO, ORIGIN_KEY: OLD})
    recorded: list[list[str]] = []

    with pytest.raises(click.ClickException, match=f"There is no stack {STACK}"):
        rotation.rotate_origin_secret(
            s3=aws.s3,
            cloudformation=aws.cloudformation,
            cloudfront=aws.cloudfront,
            bucket=BUCKET,
            stage=STAGE,
            zappa=lambda *, args: recorded.append(args),
            echo=lambda line: None,
            sleep=0,
        )
    assert recorded == []
    assert held_secrets(aws)[ORIGIN_KEY] == OLD


def test_waiting_for_the_distribution_gives_up_past_its_patience(aws) -> None:
    distribution = origin_stack(aws, origin_secret=OLD)
    put_secrets(aws, {"SECRET_KEY": DJANGO, ORIGIN_KEY: OLD})
    stage = Stage(aws, distribution_id=distribution)
    stage.reads_in_progress = 100  # a change that never reaches every edge location

    with pytest.raises(click.ClickException, match="is still InProgress"):
        rotation.wait_for_distribution(
            cloudfront=stage.cloudfront,
            distribution_id=distribution,
            echo=lambda line: None,
            sleep=0,
            patience=0,
        )


# --- rotate-secret --which django -------------------------------------------------------------
def test_the_django_key_is_replaced_keeping_the_other_keys_then_deployed(aws) -> None:
    put_secrets(aws, {"SECRET_KEY": DJANGO, ORIGIN_KEY: f"{NEW_BEFORE},{OLD}"})
    log: list[tuple[Any, ...]] = []
    s3 = aws.session.client("s3")
    s3.meta.events.register(
        "provide-client-params.s3.PutObject",
        lambda params, **_: log.append(("put", params["ServerSideEncryption"])),
    )
    lines: list[str] = []

    rotation.rotate_django_key(
        s3=s3,
        bucket=BUCKET,
        stage=STAGE,
        zappa=lambda *, args: log.append(("zappa", *args, held_secrets(aws))),
        echo=lines.append,
    )

    held = held_secrets(aws)
    assert log == [("put", "AES256"), ("zappa", "update", STAGE, held)]
    assert held[ORIGIN_KEY] == f"{NEW_BEFORE},{OLD}"
    assert held["SECRET_KEY"] != DJANGO and len(held["SECRET_KEY"]) >= 50
    assert rotation.read_secrets(s3=aws.s3, bucket=BUCKET) == held  # what a deploy reads
    printed = "\n".join(lines)
    assert [line[:5] for line in lines if line.startswith("[")] == ["[1/2]", "[2/2]"]
    assert DJANGO not in printed and held["SECRET_KEY"] not in printed


def test_a_failed_update_after_a_new_django_key_says_what_to_run(aws) -> None:
    put_secrets(aws, {"SECRET_KEY": DJANGO})

    def failing(*, args: list[str]) -> None:
        raise rotation.OperationError("`zappa update prod` failed (exit status 1)")

    with pytest.raises(click.ClickException, match="until `zappa update prod`"):
        rotation.rotate_django_key(
            s3=aws.s3, bucket=BUCKET, stage=STAGE, zappa=failing, echo=lambda line: None
        )


def test_the_names_shared_with_the_template_and_the_site_agree() -> None:
    parameter = TEMPLATE["Parameters"][rotation.ORIGIN_PARAMETER]
    assert parameter["NoEcho"] is True
    assert rotation.ORIGIN_HEADER == edge.ORIGIN_HEADER
    assert rotation.ORIGIN_KEY == "EDGE_ORIGIN_SECRET"
