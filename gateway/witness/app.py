"""The witness's HTTP service: ``POST /add-checkpoint``, and reads for the logs and monitors.

- ``POST /add-checkpoint`` — C2SP tlog-witness (see :mod:`gateway.witness.protocol`);
- ``GET /checkpoint/<origin>`` — the latest checkpoint cosigned for a log, the
  log's signatures and the witness's cosignature on it (``guichet audit verify
  --witness`` reads it);
- ``GET /key`` — the witness's verifier key.

Everything is plain text; nothing personal passes through a witness.
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from gateway.witness.config import WitnessConfig
from gateway.witness.protocol import TEXT_TYPE, add_checkpoint
from gateway.witness.state import WitnessState


def create_witness_app(config: WitnessConfig) -> Starlette:
    """A witness answering with ``config``'s key for ``config``'s logs, its state in ``config.state_file``."""
    state = WitnessState(config.state_file)

    async def add(request: Request) -> Response:
        raw = bytearray()
        try:
            async for chunk in request.stream():
                raw += chunk
                if len(raw) > config.max_body_bytes:
                    return PlainTextResponse("the submission is too large\n", status_code=413)
        except ClientDisconnect:
            return PlainTextResponse("", status_code=400)
        answer = await run_in_threadpool(add_checkpoint, config, state, bytes(raw))
        # set as is: Starlette would add a charset to text/x.tlog.size, which the specification does not
        return Response(answer.body, status_code=answer.status, headers={"Content-Type": answer.content_type})

    async def latest(request: Request) -> Response:
        origin = request.path_params["origin"]
        if origin not in config.logs:
            return PlainTextResponse(f"this witness does not follow the log {origin}\n", status_code=404)
        note = await run_in_threadpool(state.latest, origin)
        if note is None:
            return PlainTextResponse(f"no checkpoint of {origin} cosigned yet\n", status_code=404)
        return Response(note, media_type=TEXT_TYPE)

    async def key(request: Request) -> Response:
        return Response(config.signer.verifier().to_text() + "\n", media_type=TEXT_TYPE)

    async def not_allowed(request: Request, exc: Exception) -> Response:
        status = getattr(exc, "status_code", 500)
        return PlainTextResponse(f"{status}\n", status_code=status)

    return Starlette(
        routes=[
            Route("/add-checkpoint", add, methods=["POST"]),
            Route("/checkpoint/{origin:path}", latest, methods=["GET"]),
            Route("/key", key, methods=["GET"]),
        ],
        exception_handlers={404: not_allowed, 405: not_allowed},
    )
