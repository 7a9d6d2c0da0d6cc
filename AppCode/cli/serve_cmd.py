"""``scriptbatch serve``: the REST API until Ctrl-C (exit 130) or SIGTERM (exit 0).

The first line on stdout says where it listens (with ``--port 0``, the port it got), so that
scripts and tests can read it.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from types import FrameType

from AppCode.container import Container
from AppCode.core.domain.errors import ConfigurationError

EXIT_OK, EXIT_FAILED = 0, 1


def register(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:  # type: ignore[type-arg]
    serve = commands.add_parser(
        "serve",
        parents=[common],
        help="serve the REST API",
        description="Serve the REST API (docs at /api/v1/docs) until Ctrl-C or SIGTERM. "
        "Requests need an API token: make one with 'scriptbatch users token'.",
    )
    serve.add_argument(
        "--host",
        metavar="H",
        help="address to listen on (default: [api] host, 127.0.0.1: this machine only)",
    )
    serve.add_argument(
        "--port",
        type=int,
        metavar="P",
        help="port to listen on (default: [api] port, 8765; 0 picks a free one)",
    )
    serve.set_defaults(handler=_serve)


def _serve(container: Container, args: argparse.Namespace) -> int:
    # Imported here: FastAPI and the routes cost ~0.3 s, which no other command should pay.
    from AppCode.api.server import ApiServer, is_loopback

    settings = container.settings().api
    host = args.host or settings.host
    port = settings.port if args.port is None else args.port
    if not 0 <= port <= 65535:
        raise ConfigurationError(f"--port {port} is not a port", hint="Use 1 to 65535, or 0.")
    server = ApiServer(container, host, port)
    server.start()
    stop = threading.Event()

    def on_sigterm(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = signal.signal(signal.SIGTERM, on_sigterm)
    try:
        print(f"ScriptBatch API on {server.address}/api/v1 (docs: /api/v1/docs)", flush=True)
        if not is_loopback(host):
            print(
                f"note: listening on {host}, not only on this machine: anyone who can reach "
                "it can try API tokens; put it behind HTTPS for use over a network",
                file=sys.stderr,
                flush=True,
            )
        print("press Ctrl-C to stop", file=sys.stderr, flush=True)
        while not stop.wait(0.5):
            if not server.running:
                print("error: the API server stopped; see the app log", file=sys.stderr)
                return EXIT_FAILED
        return EXIT_OK
    finally:  # Ctrl-C arrives as KeyboardInterrupt: main() makes it exit code 130
        server.stop()
        signal.signal(signal.SIGTERM, previous)
