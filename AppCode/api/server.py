"""The API on a uvicorn server in a background thread: ``scriptbatch serve`` and the tests.

The socket is bound here, before the server starts, so that a port in use or an unknown
address is a ``ConfigurationError`` with a message (uvicorn would log it and exit the
process), and so that ``port=0`` gives the real port at once. uvicorn logs through the app's
logging (``<data-dir>/logs/scriptbatch.log``); it prints nothing and never sees a header.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
import threading
import time
from types import TracebackType

import uvicorn

from AppCode.api.app import create_app
from AppCode.container import Container
from AppCode.core.domain.errors import ConfigurationError

__all__ = ["ApiServer", "is_loopback"]

log = logging.getLogger(__name__)

GRACE_S = 5.0  # open requests get this long to finish when the server stops


class ApiServer:
    """``start()`` listens on ``host:port`` (0: any free port) and serves in a thread;
    ``address`` is the base URL; ``stop()`` ends open event streams and the server."""

    def __init__(self, container: Container, host: str = "127.0.0.1", port: int = 0) -> None:
        self.app = create_app(container)
        self._host = host
        self._port = port
        self._socket: socket.socket | None = None
        self._bound_port: int | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._failure: BaseException | None = None

    @property
    def address(self) -> str:
        """``http://HOST:PORT`` with the port actually listened on."""
        if self._bound_port is None:
            raise RuntimeError("the server has not been started")
        host = f"[{self._host}]" if ":" in self._host else self._host
        return f"http://{host}:{self._bound_port}"

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self, timeout: float = 15.0) -> None:
        self._socket = _listen(self._host, self._port)
        self._bound_port = self._socket.getsockname()[1]
        config = uvicorn.Config(
            self.app,
            log_config=None,  # keep the app's logging; uvicorn's loggers propagate to it
            access_log=True,
            lifespan="off",
            proxy_headers=False,
            server_header=False,
            timeout_graceful_shutdown=int(GRACE_S),
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._serve, name="api-server", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive():
                self.stop()
                raise ConfigurationError(
                    f"the API server did not start: {self._failure or 'see the app log'}",
                    hint="The details are in logs/scriptbatch.log in the data directory.",
                )
            if time.monotonic() > deadline:
                self.stop()
                raise ConfigurationError(f"the API server did not start within {timeout:g} s")
            self._thread.join(0.01)
        log.info("API server listening on %s", self.address)

    def stop(self, timeout: float = 15.0) -> None:
        self.app.state.stopping.set()
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive() and self._server is not None:
                self._server.force_exit = True
                self._thread.join(timeout)
        if self._socket is not None:
            self._socket.close()
        log.info("API server stopped")

    def __enter__(self) -> ApiServer:
        self.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def _serve(self) -> None:
        assert self._server is not None and self._socket is not None
        try:
            self._server.run(sockets=[self._socket])
        except BaseException as exc:  # uvicorn ends with SystemExit when start-up fails
            self._failure = exc
            log.exception("the API server stopped with an error")


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _listen(host: str, port: int) -> socket.socket:
    where = f"{host}:{port}"
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    except (socket.gaierror, UnicodeError) as exc:
        raise ConfigurationError(
            f"cannot listen on {where}: the address is unknown ({exc})",
            hint="Give an IP address or a host name of this machine, e.g. --host 127.0.0.1.",
        ) from None
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
    except OSError as exc:
        sock.close()
        raise ConfigurationError(
            f"cannot listen on {where}: {exc.strerror or exc}",
            hint="Choose another port with --port (0 picks a free one), or stop the program "
            "that uses this one.",
        ) from None
    return sock
