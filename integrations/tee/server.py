"""The enclave as an HTTP server speaking the Nautilus endpoints.

``GET /`` -> ``Pong!``; ``GET /health_check`` -> ``{"pk", "endpoints_status"}``;
``GET /get_attestation`` -> ``{"attestation": hex}``; ``POST /process_data``
``{"payload": {...}}`` -> ``{"response": {intent, timestamp_ms, data}, "signature"}``.
Bad input or a failed model: HTTP 400 ``{"error": "..."}`` (plus ``findings``).
"""

from __future__ import annotations

import uvicorn
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse

from integrations.errors import SatyaError, VerificationError
from integrations.tee.enclave import Enclave
from integrations.tee.failures import ModelRejected
from integrations.tee.wire import ProcessDataRequest, response_of


def create_app(enclave: Enclave) -> FastAPI:
    """The ASGI app serving ``enclave``.

    Example::

        app = create_app(Enclave(fetch, workdir=Path("/tmp/enclave")))
        # uvicorn.run(app, host="127.0.0.1", port=3000)
    """
    app = FastAPI(title="Satya enclave (Nautilus endpoints)", docs_url=None, redoc_url=None)

    @app.exception_handler(RequestValidationError)
    async def bad_input(_request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()))
        return JSONResponse({"error": f"invalid request: {where} {first.get('msg', '')}"}, 400)

    @app.get("/", response_class=PlainTextResponse)
    async def ping() -> str:
        """Liveness."""
        return "Pong!"

    @app.get("/health_check")
    async def health_check() -> dict[str, object]:
        """The enclave's public key and endpoint status."""
        return {"pk": enclave.public_key, "endpoints_status": enclave.info().extra}

    @app.get("/get_attestation")
    async def get_attestation() -> dict[str, str]:
        """The attestation document (a local debug document outside Nitro)."""
        return {"attestation": enclave.info().attestation}

    @app.post("/process_data")
    async def process_data(body: ProcessDataRequest) -> JSONResponse:
        """Verify a model and return the signed MLQualityResponse."""
        try:
            signed = await enclave.process(body.payload.to_request())
        except ModelRejected as exc:
            return JSONResponse({"error": exc.message, "findings": list(exc.findings)}, 400)
        except VerificationError as exc:
            return JSONResponse({"error": exc.message}, 400)
        except SatyaError as exc:
            status = 503 if exc.retryable else 400
            return JSONResponse({"error": exc.message, "code": exc.code}, status)
        return JSONResponse(response_of(signed))

    return app


def run_server(*, host: str, port: int, enclave: Enclave) -> None:
    """Serve ``enclave`` until interrupted (blocking).

    Example::

        run_server(host="127.0.0.1", port=3000, enclave=enclave)
    """
    uvicorn.run(create_app(enclave), host=host, port=port, log_level="warning")
