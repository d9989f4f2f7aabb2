"""Invoke an adapter many times, then SIGTERM this process; lifespan events go to stdout."""

from __future__ import annotations

import os
import signal
import sys
import time
from collections.abc import MutableMapping
from typing import Any

from traced_asgi_lambda import LambdaAdapter
from traced_asgi_lambda.local import HttpRequest, LocalContext, build_event
from traced_asgi_lambda.telemetry.options import TelemetryOptions
from traced_asgi_lambda.types import ASGIReceive, ASGISend


async def app(scope: MutableMapping[str, Any], receive: ASGIReceive, send: ASGISend) -> None:
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                print("startup", flush=True)
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                print("shutdown", flush=True)
                await send({"type": "lifespan.shutdown.complete"})
                return
    await send({"type": "http.response.start", "status": 200})
    await send({"type": "http.response.body", "body": b"ok"})


def main() -> None:
    # Logs and metrics off: stdout carries only the lifespan events the test reads.
    handler = LambdaAdapter(app, telemetry=TelemetryOptions(logs=False, metrics=False))
    event = build_event(sys.argv[1] if len(sys.argv) > 1 else "http-api", HttpRequest())
    for _ in range(25):
        response = handler(event, LocalContext())
        assert str(response.get("statusCode", response.get("status"))) == "200"
    print("invoked 25", flush=True)
    os.kill(os.getpid(), signal.SIGTERM)
    time.sleep(5)  # the default SIGTERM action must end the process before this returns
    print("still alive", flush=True)


if __name__ == "__main__":
    main()
