"""Run a simulator's ASGI app as a real HTTP server on 127.0.0.1.

Tests start simulators in a background thread on an ephemeral port (``running(app)``); the CLI
(``integration-hub simulate NAME --port P``) serves them in the foreground (``serve(app, port)``).
Both use uvicorn, so connectors are exercised over a real socket with real HTTP framing.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn

LOOPBACK = "127.0.0.1"


def _config(app: Any, port: int) -> uvicorn.Config:
    return uvicorn.Config(
        app,
        host=LOOPBACK,
        port=port,
        log_level="warning",
        lifespan="off",
        access_log=False,
        timeout_keep_alive=30,
    )


@contextmanager
def running(app: Any, port: int = 0) -> Iterator[str]:
    """Serve ``app`` on 127.0.0.1 in a daemon thread; yields the base URL (``http://127.0.0.1:PORT``)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((LOOPBACK, port))
    bound_port = sock.getsockname()[1]
    server = uvicorn.Server(_config(app, bound_port))
    server.install_signal_handlers = lambda: None  # type: ignore[method-assign]
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("simulator did not start")
        time.sleep(0.01)
    try:
        yield f"http://{LOOPBACK}:{bound_port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


def serve(app: Any, port: int) -> None:
    """Serve ``app`` on 127.0.0.1:``port`` in the foreground until interrupted."""
    uvicorn.Server(_config(app, port)).run()
