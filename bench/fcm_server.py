"""A minimal FCM HTTP v1 endpoint for the push benchmark (raw ASGI, run by uvicorn).

Answers every ``POST /v1/projects/{id}/messages:send`` with a message name and counts
them; ``GET /count`` returns the count (per process).
"""

from __future__ import annotations

import itertools
import json
from typing import Any

_counter = itertools.count(1)
_sent = 0


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    global _sent
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    more = True
    while more:
        message = await receive()
        more = message.get("more_body", False)
    if scope["method"] == "GET":
        body = json.dumps({"sent": _sent}).encode()
    else:
        _sent += 1
        body = b'{"name": "projects/bench/messages/%d"}' % next(_counter)
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"application/json")],
        }
    )
    await send({"type": "http.response.body", "body": body})
