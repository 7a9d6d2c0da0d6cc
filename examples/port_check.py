"""Report whether TCP ports on a host accept connections, with connect latency.

For each port a plain TCP connection is opened and closed again; nothing is
sent, so this is safe to point at any service. The default ports are 8765
(the ScriptBatch API) and 22 (SSH) on 127.0.0.1.

The script is a report, so it exits 0 even when ports are closed, unless
--require-open is given: then any closed port makes it exit 1, which is handy
as the first step of a batch that needs a service to be running.

Usage:
    python port_check.py                                 # 127.0.0.1, ports 8765 and 22
    python port_check.py --host db.internal --port 5432 --timeout 2
    python port_check.py --port 8765 --require-open
"""

import argparse
import socket
import sys
import time

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORTS = [8765, 22]


def port_number(text: str) -> int:
    """argparse type: an integer between 1 and 65535."""
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"port must be between 1 and 65535, got {port}")
    return port


def positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be greater than 0, got {text}")
    return value


def check_port(host: str, port: int, timeout: float) -> tuple[bool, float, str]:
    """Try to connect to host:port; return (is_open, elapsed milliseconds, detail)."""
    start = time.perf_counter()
    try:
        with socket.create_connection((host, port), timeout=timeout):
            pass
    except TimeoutError:
        detail = f"no answer within {timeout:g} s"
    except ConnectionRefusedError:
        detail = "connection refused"
    except socket.gaierror as exc:
        detail = f"cannot resolve host: {exc.strerror}"
    except OSError as exc:
        detail = exc.strerror or str(exc)
    else:
        return True, (time.perf_counter() - start) * 1000, ""
    return False, (time.perf_counter() - start) * 1000, detail


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description="Report whether TCP ports accept connections.")
    parser.add_argument(
        "--host", default=DEFAULT_HOST, help=f"host name or IP (default: {DEFAULT_HOST})"
    )
    parser.add_argument(
        "--port",
        dest="ports",
        action="append",
        type=port_number,
        metavar="PORT",
        help="port to check; repeat for several (default: 8765 and 22)",
    )
    parser.add_argument(
        "--timeout",
        type=positive_float,
        default=1.0,
        help="seconds to wait for each connection (default: 1)",
    )
    parser.add_argument(
        "--require-open",
        action="store_true",
        help="exit with status 1 if any checked port is closed",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    ports = list(dict.fromkeys(args.ports or DEFAULT_PORTS))  # dedupe, keep order

    print(f"Checking {len(ports)} port(s) on {args.host} (timeout {args.timeout:g} s)")
    closed = []
    for port in ports:
        is_open, elapsed_ms, detail = check_port(args.host, port, args.timeout)
        if is_open:
            print(f"  {port:>5}  open    {elapsed_ms:7.1f} ms")
        else:
            closed.append(port)
            print(f"  {port:>5}  closed  {elapsed_ms:7.1f} ms  ({detail})")

    print(f"{len(ports) - len(closed)} open, {len(closed)} closed.")
    if args.require_open and closed:
        print(f"Required port(s) not open: {', '.join(map(str, closed))}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
