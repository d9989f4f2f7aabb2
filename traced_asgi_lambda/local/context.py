"""A Lambda context object for running handlers outside Lambda.

It has the attributes of the real one ("AWS Lambda context object in Python",
https://docs.aws.amazon.com/lambda/latest/dg/python-context.html), with a deadline
that counts down from construction.
"""

from __future__ import annotations

import time
import uuid

__all__ = ["LocalContext"]


class LocalContext:
    """A stand-in for the runtime's context, with a real countdown to its deadline."""

    def __init__(
        self,
        function_name: str = "local-function",
        *,
        timeout_ms: int = 30_000,
        memory_limit_in_mb: int = 512,
        region: str = "us-east-1",
        account: str = "123456789012",
        aws_request_id: str | None = None,
    ) -> None:
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.invoked_function_arn = f"arn:aws:lambda:{region}:{account}:function:{function_name}"
        self.memory_limit_in_mb = memory_limit_in_mb
        self.aws_request_id = aws_request_id or str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = time.strftime("%Y/%m/%d/[$LATEST]") + uuid.uuid4().hex
        self._deadline = time.monotonic() + timeout_ms / 1000

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))
