"""What every operation on a deployed stage reads first, and the one error they raise: the
stage's infra stack, whatever its status, and the distribution it made
(deploy/operations.py, deploy/rotation.py)."""

from collections.abc import Callable
from typing import Any

from deploy import stack
from deploy.runs import StepFailed

Echo = Callable[[str], None]


class OperationError(StepFailed):
    """A step failed; the message says what was done and what to do next."""


def stage_stack(*, cloudformation: Any, stage: str) -> dict[str, Any]:
    """The infra stack whatever its status (a step may find it mid-update); OperationError if
    there is none."""
    found = stack.described(cloudformation=cloudformation, stage=stage)
    if found is None:
        raise OperationError(
            f"There is no stack {stack.stack_name(stage=stage)} in this account and region: "
            f"nothing is deployed to operate on (`make deploy STAGE={stage}`)."
        )
    return found


def distribution_of(*, cloudformation: Any, stage: str) -> str:
    outputs = stack.outputs_of(stage_stack(cloudformation=cloudformation, stage=stage))
    if not outputs.get("DistributionId"):
        raise OperationError(
            f"The stack {stack.stack_name(stage=stage)} has no DistributionId output: run "
            f"`make deploy STAGE={stage}`."
        )
    return outputs["DistributionId"]
