"""``make demo``: an example FastAPI app answering one request from every event source.

Each request is built as the real payload of its source, run through the real adapter,
and the Lambda response is printed as the source would receive it.
"""

from __future__ import annotations

import json

from examples.fastapi_app import handler
from traced_asgi_lambda.local import SOURCES, HttpRequest, LocalContext, build_event

REQUESTS = [
    HttpRequest("GET", "/items/42", query=[("q", "hello world")], headers=[("user-agent", "demo")]),
    HttpRequest("GET", "/logo.png"),
    HttpRequest("GET", "/missing"),
    HttpRequest("GET", "/boom"),
]


def main() -> None:
    context = LocalContext("demo-function")
    for source in SOURCES:
        print(f"== {source}")
        for request in REQUESTS:
            event = build_event(source, request)
            response = handler(event, context)
            status = response.get("statusCode", response.get("status"))
            summary = json.dumps(response)[:150]
            print(f"  {request.method} {request.path:<12} -> {status}  {summary}")
    handler.close()


if __name__ == "__main__":
    main()
