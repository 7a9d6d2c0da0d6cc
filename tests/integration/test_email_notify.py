"""The email_notify plugin against a real SMTP server (aiosmtpd) on the loopback interface."""

from __future__ import annotations

import email
import email.policy
import ipaddress
import logging
import socket
import ssl
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any

import keyring
import pluggy
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from keyring.errors import NoKeyringError
from pydantic import ValidationError

import AppCode
from AppCode.core.domain.models import (
    Batch,
    BatchStatus,
    Execution,
    ExecutionStatus,
    RunOptions,
)
from AppCode.services.plugin_spec import (
    PROJECT,
    Attachment,
    BatchReport,
    DeliveryError,
    HookSpecs,
    Notification,
)
from plugins import email_notify
from plugins.email_notify import EmailSettings

HOST = "127.0.0.1"
SENDER = "scriptbatch@example.org"
RECIPIENTS = ["ops@example.org", "dev@example.org"]
USER = "alice"
PASSWORD = "s3cret-Pa55word"
REPORT_HTML = "<html><body><h1>Batch b1 — 2 of 3 failed</h1><p>Python 脚本</p></body></html>"


# --- a real SMTP server ---------------------------------------------------------------------


@dataclass
class Received:
    envelope: Envelope
    over_tls: bool
    authenticated: bool | None

    def message(self) -> EmailMessage:
        content = self.envelope.original_content or b""
        parsed = email.message_from_bytes(content, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed


class Collector:
    """aiosmtpd handler that keeps every message it accepts."""

    def __init__(self, refuse: set[str] | None = None) -> None:
        self.received: list[Received] = []
        self.refuse = refuse or set()

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if address in self.refuse:
            return "550 5.1.1 no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        # Runs before the server answers DATA, so the client's send returns only after this.
        self.received.append(Received(envelope, session.ssl is not None, session.authenticated))
        return "250 OK"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


StartServer = Callable[..., tuple[Collector, int]]


@pytest.fixture
def smtp_server() -> Iterator[StartServer]:
    """Start an aiosmtpd server with the given SMTP options; stopped after the test."""
    controllers: list[Controller] = []

    def start(collector: Collector | None = None, **options: Any) -> tuple[Collector, int]:
        collector = collector or Collector()
        port = free_port()
        controller = Controller(
            collector, hostname=HOST, port=port, server_hostname="localhost", **options
        )
        controller.start()
        controllers.append(controller)
        return collector, port

    yield start
    for controller in controllers:
        controller.stop()


@pytest.fixture(scope="module")
def server_tls(tmp_path_factory: pytest.TempPathFactory) -> ssl.SSLContext:
    """A server TLS context with a self-signed certificate for localhost / 127.0.0.1."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address(HOST))]
            ),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    folder = tmp_path_factory.mktemp("tls")
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    return context


def authenticator(
    server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and auth_data == (USER.encode(), PASSWORD.encode())
    return AuthResult(success=ok, handled=False)


# --- what the plugin is given --------------------------------------------------------------


def notification(*, failed: bool) -> Notification:
    """A finished batch of three scripts; two fail when ``failed``."""
    start = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
    bad = ExecutionStatus.FAILED if failed else ExecutionStatus.SUCCEEDED
    statuses = {
        "etl/load.py": ExecutionStatus.SUCCEEDED,
        "etl/clean.py": bad,
        "reports/监控.py": ExecutionStatus.TIMED_OUT if failed else ExecutionStatus.SUCCEEDED,
    }
    executions = tuple(
        Execution(
            id=f"e{n}",
            batch_id="b1",
            sequence=n,
            script_path=path,
            status=status,
            exit_code=0 if status is ExecutionStatus.SUCCEEDED else 1,
        )
        for n, (path, status) in enumerate(statuses.items())
    )
    batch = Batch(
        id="b1",
        options=RunOptions(jobs=2),
        status=BatchStatus.FAILED if failed else BatchStatus.SUCCEEDED,
        started_at=start,
        finished_at=start + timedelta(seconds=42),
    )
    report = BatchReport(
        batch=batch,
        executions=executions,
        output_tails={e.id: ("Traceback ...", "ValueError: bad row") for e in executions},
        samples=(),
        generated_at=start + timedelta(seconds=43),
        app_version=AppCode.__version__,
    )
    failures = report.failures()
    if failures:
        subject = f"ScriptBatch: batch b1 failed ({len(failures)} of {len(executions)} scripts)"
        text = "Scripts that did not succeed:\n" + "\n".join(
            f"  {e.script_path}: {e.status.value}" for e in failures
        )
    else:
        subject = f"ScriptBatch: batch b1 succeeded ({len(executions)} scripts)"
        text = "Every script succeeded.\n"
    return Notification(
        kind="batch_finished",
        subject=subject,
        text=text,
        failed=bool(failures),
        report=report,
        attachments=(Attachment("report-b1.html", REPORT_HTML.encode(), "text/html"),),
    )


def settings(port: int, **overrides: Any) -> EmailSettings:
    values: dict[str, Any] = {
        "enabled": True,
        "smtp_host": HOST,
        "smtp_port": port,
        "sender": SENDER,
        "recipients": RECIPIENTS,
        "timeout_s": 10,
    }
    values.update(overrides)
    return EmailSettings.model_validate(values)


# --- the plugin as the plugin service sees it ----------------------------------------------


def test_registers_against_the_hook_specs() -> None:
    manager = pluggy.PluginManager(PROJECT)
    manager.add_hookspecs(HookSpecs)
    manager.register(email_notify)
    manager.check_pending()

    info = manager.hook.plugin_info()
    assert (info.name, info.version) == ("email_notify", AppCode.__version__)
    assert info.description == "Emails a summary when a batch finishes"
    assert manager.hook.settings_schema() is EmailSettings
    for name, field in EmailSettings.model_fields.items():
        assert field.title and field.description, f"{name} needs a title and a description"


# --- sending -------------------------------------------------------------------------------


def test_failure_mode_mails_a_failed_batch_with_the_report(smtp_server: StartServer) -> None:
    collector, port = smtp_server()

    email_notify.notify(event=notification(failed=True), settings=settings(port))

    assert len(collector.received) == 1
    received = collector.received[0]
    assert received.envelope.mail_from == SENDER
    assert received.envelope.rcpt_tos == RECIPIENTS
    message = received.message()
    assert message["Subject"] == "ScriptBatch: batch b1 failed (2 of 3 scripts)"
    assert message["From"] == SENDER
    assert message["To"] == ", ".join(RECIPIENTS)
    assert message["Date"] and message["Message-ID"]
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    text = body.get_content()
    assert "etl/clean.py: failed" in text
    assert "reports/监控.py: timed_out" in text
    assert "etl/load.py" not in text
    attachments = list(message.iter_attachments())
    assert [a.get_filename() for a in attachments] == ["report-b1.html"]
    assert attachments[0].get_content_type() == "text/html"
    assert attachments[0].get_content() == REPORT_HTML


def test_failure_mode_sends_nothing_for_a_successful_batch(smtp_server: StartServer) -> None:
    collector, port = smtp_server()

    email_notify.notify(event=notification(failed=False), settings=settings(port))

    assert collector.received == []


def test_always_mode_mails_a_successful_batch(smtp_server: StartServer) -> None:
    collector, port = smtp_server()

    email_notify.notify(event=notification(failed=False), settings=settings(port, when="always"))

    assert [r.message()["Subject"] for r in collector.received] == [
        "ScriptBatch: batch b1 succeeded (3 scripts)"
    ]


def test_disabled_sends_nothing(smtp_server: StartServer) -> None:
    collector, port = smtp_server()

    email_notify.notify(
        event=notification(failed=True), settings=settings(port, enabled=False, when="always")
    )

    assert collector.received == []


def test_starttls_with_a_self_signed_certificate(
    smtp_server: StartServer, server_tls: ssl.SSLContext
) -> None:
    collector, port = smtp_server(tls_context=server_tls, require_starttls=True)

    email_notify.notify(
        event=notification(failed=True),
        settings=settings(port, security="starttls", verify_certificate=False),
    )

    assert [r.over_tls for r in collector.received] == [True]


def test_an_unverifiable_certificate_is_refused(
    smtp_server: StartServer, server_tls: ssl.SSLContext
) -> None:
    collector, port = smtp_server(tls_context=server_tls, require_starttls=True)

    with pytest.raises(DeliveryError) as caught:
        email_notify.notify(
            event=notification(failed=True), settings=settings(port, security="starttls")
        )

    assert f"{HOST}:{port}" in caught.value.message
    assert caught.value.hint and "verify_certificate" in caught.value.hint
    assert collector.received == []


def test_implicit_tls(smtp_server: StartServer, server_tls: ssl.SSLContext) -> None:
    collector, port = smtp_server(ssl_context=server_tls)

    email_notify.notify(
        event=notification(failed=True),
        settings=settings(port, security="ssl", verify_certificate=False),
    )

    assert len(collector.received) == 1


def test_login_with_the_password_from_the_environment(
    smtp_server: StartServer,
    server_tls: ssl.SSLContext,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv("SCRIPTBATCH_SMTP_PASSWORD", PASSWORD)
    collector, port = smtp_server(
        tls_context=server_tls,
        require_starttls=True,
        authenticator=authenticator,
        auth_required=True,
        auth_require_tls=True,
    )

    email_notify.notify(
        event=notification(failed=True),
        settings=settings(port, security="starttls", verify_certificate=False, username=USER),
    )

    assert [(r.over_tls, r.authenticated) for r in collector.received] == [(True, True)]
    assert PASSWORD.encode() not in (collector.received[0].envelope.original_content or b"")
    assert PASSWORD not in caplog.text


def test_login_with_the_password_from_the_keyring(
    smtp_server: StartServer, server_tls: ssl.SSLContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[tuple[str, str]] = []

    def get_password(service: str, username: str) -> str:
        asked.append((service, username))
        return PASSWORD

    monkeypatch.setattr(keyring, "get_password", get_password)
    collector, port = smtp_server(
        tls_context=server_tls, require_starttls=True, authenticator=authenticator
    )

    email_notify.notify(
        event=notification(failed=True),
        settings=settings(port, security="starttls", verify_certificate=False, username=USER),
    )

    assert asked == [("scriptbatch-smtp", USER)]
    assert [r.authenticated for r in collector.received] == [True]


def test_a_wrong_password_is_reported_without_the_password(
    smtp_server: StartServer,
    server_tls: ssl.SSLContext,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    wrong = "not-the-Pa55word"
    monkeypatch.setenv("SCRIPTBATCH_SMTP_PASSWORD", wrong)
    collector, port = smtp_server(
        tls_context=server_tls, require_starttls=True, authenticator=authenticator
    )

    with pytest.raises(DeliveryError) as caught:
        email_notify.notify(
            event=notification(failed=True),
            settings=settings(port, security="starttls", verify_certificate=False, username=USER),
        )

    error = caught.value
    assert f"{HOST}:{port}" in error.message and "535" in error.message
    assert error.hint and "keyring set scriptbatch-smtp alice" in error.hint
    for text in (error.message, error.hint, caplog.text):
        assert wrong not in text
    assert collector.received == []


def test_no_password_anywhere_says_how_to_give_one(
    smtp_server: StartServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_keyring(service: str, username: str) -> str:
        raise NoKeyringError("No recommended backend was available.")

    monkeypatch.setattr(keyring, "get_password", no_keyring)
    collector, port = smtp_server()

    with pytest.raises(DeliveryError) as caught:
        email_notify.notify(event=notification(failed=True), settings=settings(port, username=USER))

    assert caught.value.hint is not None
    assert "SCRIPTBATCH_SMTP_PASSWORD" in caught.value.hint
    assert "keyring set scriptbatch-smtp alice" in caught.value.hint
    assert collector.received == []


def test_a_closed_port_raises_delivery_error() -> None:
    # A bound socket that does not listen: connections to it are refused, and no other test
    # or program can take the port meanwhile.
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port = sock.getsockname()[1]

        with pytest.raises(DeliveryError) as caught:
            email_notify.notify(event=notification(failed=True), settings=settings(port))

    assert f"could not send the batch email via {HOST}:{port}" in caught.value.message
    assert caught.value.hint and "smtp_host" in caught.value.hint


def test_refused_recipients_raise_delivery_error(smtp_server: StartServer) -> None:
    collector, port = smtp_server(Collector(refuse={"ops@example.org"}))

    with pytest.raises(DeliveryError) as caught:
        email_notify.notify(event=notification(failed=True), settings=settings(port))

    assert "ops@example.org" in caught.value.message and "550" in caught.value.message
    assert [r.envelope.rcpt_tos for r in collector.received] == [["dev@example.org"]]


# --- settings ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "overrides",
    [
        {"recipients": ["ops@example.org\r\nBcc: everyone@example.org"]},
        {"recipients": ["ops@example.org, everyone@example.org"]},
        {"recipients": ["ops example.org"]},
        {"sender": "scriptbatch@example.org\nSubject: hello"},
    ],
)
def test_header_injection_is_rejected(overrides: dict[str, Any]) -> None:
    with pytest.raises(ValidationError, match="is not a single email address"):
        settings(25, **overrides)


def test_enabled_needs_a_sender_and_a_recipient() -> None:
    assert EmailSettings().enabled is False  # the defaults are valid
    with pytest.raises(ValidationError, match="no sender"):
        settings(25, sender="")
    with pytest.raises(ValidationError, match="no recipient"):
        settings(25, recipients=[])


def test_a_password_in_the_config_is_refused_without_echoing_it() -> None:
    with pytest.raises(ValidationError) as caught:
        EmailSettings.model_validate({"username": USER, "password": PASSWORD})

    assert "password_env" in str(caught.value)
    assert PASSWORD not in str(caught.value)
