"""The Lambda-like environment and context every measured process runs with.

Every stack reads the same variables a real Lambda sets (so our adapter and Powertools
log JSON as they would there), and none of the variables that would change what is
measured: no ``AWS_LAMBDA_RUNTIME_API`` (so nothing tries to register an extension), no
``_X_AMZN_TRACE_ID`` (Lambda sets it with ``Sampled=0`` when active tracing is off, which
would make OpenTelemetry's parent-based sampler drop every span of the instrumented
stacks), and no ``OTEL_*``, ``TRACED_ASGI_LAMBDA_*`` or log-level overrides.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

__all__ = ["FUNCTION_NAME", "LAMBDA_ENV", "BenchContext", "lambda_environ"]

FUNCTION_NAME = "bench-function"
_ARN = f"arn:aws:lambda:us-east-1:123456789012:function:{FUNCTION_NAME}"

# "Defined runtime environment variables", AWS Lambda developer guide.
LAMBDA_ENV: Mapping[str, str] = {
    "AWS_LAMBDA_FUNCTION_NAME": FUNCTION_NAME,
    "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512",
    "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{FUNCTION_NAME}",
    "AWS_LAMBDA_LOG_STREAM_NAME": "2025/01/01/[$LATEST]0123456789abcdef0123456789abcdef",
    "AWS_REGION": "us-east-1",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_EXECUTION_ENV": "AWS_Lambda_python3.11",
    "POWERTOOLS_SERVICE_NAME": "bench",
    "POWERTOOLS_METRICS_NAMESPACE": "Bench",
}

_REMOVED_PREFIXES = ("OTEL_", "TRACED_ASGI_LAMBDA_", "POWERTOOLS_", "AWS_LAMBDA_", "_X_AMZN")
_REMOVED = frozenset({"_HANDLER", "ORIG_HANDLER", "LOG_LEVEL", "AWS_EXECUTION_ENV"})


def lambda_environ(base: Mapping[str, str] | None = None) -> dict[str, str]:
    """``base`` (default: this process's environment) cleaned, plus the Lambda variables."""
    source = os.environ if base is None else base
    environ = {
        name: value
        for name, value in source.items()
        if name not in _REMOVED and not name.startswith(_REMOVED_PREFIXES)
    }
    environ.update(LAMBDA_ENV)
    return environ


class BenchContext:
    """The runtime's context object, with a deadline that never comes closer.

    A fixed remaining time matters: a real countdown (``LocalContext``'s 30 s) would run
    out during a long run, and our adapter would then drop spans instead of exporting them,
    making it look faster than it is.
    """

    function_name = FUNCTION_NAME
    function_version = "$LATEST"
    invoked_function_arn = _ARN
    memory_limit_in_mb = 512
    aws_request_id = "c6af9ac6-7b61-11e6-9a41-93e812345678"
    log_group_name = f"/aws/lambda/{FUNCTION_NAME}"
    log_stream_name = LAMBDA_ENV["AWS_LAMBDA_LOG_STREAM_NAME"]
    identity = None
    client_context = None

    def get_remaining_time_in_millis(self) -> int:
        return 900_000  # a fresh invocation of a function with Lambda's longest timeout
