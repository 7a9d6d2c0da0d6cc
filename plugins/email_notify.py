"""Built-in plugin: emails a summary (with the HTML report attached) when a batch finishes.

Configured in ``[plugins.email_notify]``. The SMTP password is never read from the config file:
it comes from the environment variable named by ``password_env`` or, failing that, from the OS
keyring (service ``scriptbatch-smtp``, the SMTP user name as the key).
"""

from __future__ import annotations

import logging
import os
import re
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

import AppCode
from AppCode.services.plugin_spec import (
    Attachment,
    DeliveryError,
    Notification,
    PluginInfo,
    hookimpl,
)

__all__ = ["KEYRING_SERVICE", "EmailSettings", "notify", "plugin_info", "settings_schema"]

log = logging.getLogger(__name__)

KEYRING_SERVICE = "scriptbatch-smtp"
_FORBIDDEN_IN_ADDRESS = set(',;<>"()[]\\')
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class EmailSettings(BaseModel):
    """The ``[plugins.email_notify]`` section; the GUI builds its form from these fields."""

    # Inputs stay out of error texts: a password typed into the config by mistake must not
    # end up in a log or a dialog.
    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)

    enabled: bool = Field(
        default=False,
        title="Send emails",
        description="Send an email when a batch finishes.",
    )
    smtp_host: str = Field(
        default="localhost",
        min_length=1,
        title="SMTP server",
        description="Host name or address of the mail server.",
    )
    smtp_port: int = Field(
        default=25,
        ge=1,
        le=65535,
        title="SMTP port",
        description="Port of the mail server: usually 25 (none), 587 (starttls) or 465 (ssl).",
    )
    security: Literal["none", "starttls", "ssl"] = Field(
        default="none",
        title="Security",
        description="'none': plain SMTP; 'starttls': upgrade the connection to TLS; "
        "'ssl': TLS from the start (SMTPS).",
    )
    username: str = Field(
        default="",
        title="User name",
        description="SMTP login name; leave empty when the server needs no login.",
    )
    password_env: str = Field(
        default="SCRIPTBATCH_SMTP_PASSWORD",
        title="Password variable",
        description="Name of the environment variable holding the SMTP password. When it is "
        f"unset or empty the password is read from the OS keyring (service '{KEYRING_SERVICE}',"
        " key = user name). The password is never stored in the config file.",
    )
    sender: str = Field(
        default="",
        title="From",
        description="Sender address, e.g. scriptbatch@example.org.",
    )
    recipients: list[str] = Field(
        default_factory=list,
        title="To",
        description="Addresses that receive the email.",
    )
    when: Literal["always", "failure"] = Field(
        default="failure",
        title="When",
        description="'failure': only when a script did not succeed; 'always': after every batch.",
    )
    timeout_s: float = Field(
        default=8,
        gt=0,
        title="Timeout (s)",
        description="Seconds to wait for the mail server at each step (connect, TLS, login, "
        "send) before giving up; keep 4 steps of it under [plugins] hook_timeout_s.",
    )
    verify_certificate: bool = Field(
        default=True,
        title="Verify certificate",
        description="Check the server's TLS certificate; switch off only for a self-signed "
        "certificate on a server you trust.",
    )

    @model_validator(mode="before")
    @classmethod
    def _no_password_in_config(cls, data: Any) -> Any:
        """Say where the password belongs instead of a bare 'extra inputs' error."""
        if isinstance(data, dict) and "password" in data:
            raise ValueError(
                "the SMTP password is not read from the config file: remove 'password' and set "
                "the environment variable named by password_env, or store it with "
                f"'keyring set {KEYRING_SERVICE} USER'"
            )
        return data

    @field_validator("sender")
    @classmethod
    def _check_sender(cls, value: str) -> str:
        return _check_address(value) if value else value

    @field_validator("recipients")
    @classmethod
    def _check_recipients(cls, value: list[str]) -> list[str]:
        return [_check_address(address) for address in value]

    @field_validator("password_env")
    @classmethod
    def _check_password_env(cls, value: str) -> str:
        if value and not _ENV_NAME.fullmatch(value):
            raise ValueError(
                "must be the name of an environment variable (letters, digits and '_'), "
                "e.g. SCRIPTBATCH_SMTP_PASSWORD"
            )
        return value

    @model_validator(mode="after")
    def _complete_when_enabled(self) -> EmailSettings:
        if self.enabled and not self.sender:
            raise ValueError("sending is enabled but no sender (From address) is set")
        if self.enabled and not self.recipients:
            raise ValueError("sending is enabled but no recipient (To address) is set")
        return self


def _check_address(address: str) -> str:
    """A single plain address: anything more (spaces, line breaks, a second address) could
    inject headers or recipients."""
    local, at, domain = address.partition("@")
    bad = [c for c in address if c.isspace() or not c.isprintable() or c in _FORBIDDEN_IN_ADDRESS]
    if bad or not at or not local or not domain:
        raise ValueError(
            f"{address!r} is not a single email address like name@example.org "
            "(one '@', no spaces, line breaks, commas or brackets)"
        )
    return address


@hookimpl
def plugin_info() -> PluginInfo:
    return PluginInfo(
        name="email_notify",
        version=AppCode.__version__,
        description="Emails a summary when a batch finishes",
        author="ScriptBatch",
    )


@hookimpl
def settings_schema() -> type[BaseModel]:
    return EmailSettings


@hookimpl
def wants_notification(failed: bool, settings: EmailSettings) -> bool:
    """Only when sending is on (and, with ``when = "failure"``, only for failed batches): the
    app then builds no report for a batch nobody is told about."""
    return settings.enabled and (settings.when != "failure" or failed)


@hookimpl
def notify(event: Notification, settings: EmailSettings) -> None:
    """Send ``event`` by mail, as ``settings`` say; raise DeliveryError when it cannot."""
    if not settings.enabled or (settings.when == "failure" and not event.failed):
        return
    password = _password(settings) if settings.username else None
    message = _build_message(event, settings)
    where = f"{settings.smtp_host}:{settings.smtp_port}"
    try:
        refused = _send(message, settings, password)
    except (smtplib.SMTPException, OSError) as exc:  # ssl.SSLError is an OSError
        raise DeliveryError(
            f"could not send the batch email via {where}: {_reason(exc)}",
            hint=_hint(exc, settings),
        ) from exc
    if refused:
        raise DeliveryError(
            f"the mail server {where} refused some recipients of the batch email: "
            + ", ".join(f"{address} ({_reply(*reply)})" for address, reply in refused.items()),
            hint="The others received it. Check the addresses in [plugins.email_notify] "
            "recipients.",
        )
    log.info("sent the batch email to %d recipient(s) via %s", len(settings.recipients), where)


def _password(settings: EmailSettings) -> str:
    """The SMTP password from the environment, else from the keyring; never from the config."""
    if settings.password_env:
        from_env = os.environ.get(settings.password_env, "")
        if from_env:
            return from_env
    import keyring  # here, not at load: finding the OS keyring's backend takes a while
    from keyring.errors import KeyringError

    try:
        stored = keyring.get_password(KEYRING_SERVICE, settings.username)
    except KeyringError as exc:
        log.debug("no keyring to read the SMTP password from: %s", type(exc).__name__)
        stored = None
    if stored:
        return stored
    env_part = ""
    if settings.password_env:
        env_part = f"set the environment variable {settings.password_env}, or "
    raise DeliveryError(
        f"no SMTP password found for user {settings.username!r}, so the batch email was not sent",
        hint=f"Give the password: {env_part}store it in the OS keyring with "
        f"'keyring set {KEYRING_SERVICE} {settings.username}'.",
    )


def _build_message(event: Notification, settings: EmailSettings) -> EmailMessage:
    message = EmailMessage()
    # A subject must be one line; a stray line break in a script name must not break headers.
    message["Subject"] = " ".join(event.subject.split())
    message["From"] = settings.sender
    message["To"] = ", ".join(settings.recipients)
    message["Date"] = formatdate(localtime=True)
    message["Message-ID"] = make_msgid(domain=settings.sender.rpartition("@")[2])
    message.set_content(event.text, charset="utf-8")
    for attachment in event.attachments:
        _attach(message, attachment)
    return message


def _attach(message: EmailMessage, attachment: Attachment) -> None:
    mime_type, _, _ = attachment.mime_type.partition(";")
    maintype, slash, subtype = mime_type.strip().lower().partition("/")
    if not slash or not maintype or not subtype:
        maintype, subtype = "application", "octet-stream"
    # ScriptBatch writes its text files (the HTML report) in UTF-8; say so to mail readers.
    params = {"charset": "utf-8"} if maintype == "text" else None
    message.add_attachment(
        attachment.content,
        maintype=maintype,
        subtype=subtype,
        filename=attachment.filename,
        params=params,
    )


def _tls_context(settings: EmailSettings) -> ssl.SSLContext:
    context = ssl.create_default_context()
    if not settings.verify_certificate:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


def _send(
    message: EmailMessage, settings: EmailSettings, password: str | None
) -> dict[str, tuple[int, bytes]]:
    """Deliver ``message``; return the recipients the server refused (empty when none)."""
    host, port, timeout = settings.smtp_host, settings.smtp_port, settings.timeout_s
    smtp: smtplib.SMTP
    if settings.security == "ssl":
        smtp = smtplib.SMTP_SSL(host, port, timeout=timeout, context=_tls_context(settings))
    else:
        smtp = smtplib.SMTP(host, port, timeout=timeout)
    with smtp:
        if settings.security == "starttls":
            smtp.starttls(context=_tls_context(settings))
        if settings.username and password is not None:
            smtp.login(settings.username, password)
        return smtp.send_message(
            message, from_addr=settings.sender, to_addrs=list(settings.recipients)
        )


def _reply(code: int, text: bytes | str) -> str:
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    return f"{code} {' '.join(text.split())}"


def _reason(exc: BaseException) -> str:
    """What went wrong in words (the server's reply when there is one)."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return "every recipient was refused: " + ", ".join(
            f"{address} ({_reply(*reply)})" for address, reply in exc.recipients.items()
        )
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"the server answered {_reply(exc.smtp_code, exc.smtp_error)}"
    if isinstance(exc, TimeoutError):
        return "the server did not answer in time"
    return str(exc) or type(exc).__name__


def _hint(exc: BaseException, settings: EmailSettings) -> str:
    section = "[plugins.email_notify]"
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return (
            f"Check the user name in {section} and the password in the environment variable "
            f"{settings.password_env or '(none set)'} or in the keyring "
            f"('keyring set {KEYRING_SERVICE} {settings.username}')."
        )
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        return (
            f"The server does not offer what {section} asks for; many servers allow a login "
            'only after TLS: try security = "starttls" (port 587) or "ssl" (port 465).'
        )
    if isinstance(exc, ssl.SSLCertVerificationError):
        return (
            "The server's certificate could not be verified. Use the host name the certificate "
            "names, or set verify_certificate = false if the server uses a self-signed "
            "certificate you trust."
        )
    if isinstance(exc, ssl.SSLError):
        return (
            "The TLS handshake failed: check that security matches the port "
            '("starttls" usually on 587, "ssl" on 465).'
        )
    if isinstance(exc, smtplib.SMTPException):
        return f"Check the sender and recipients in {section} and the server's answer above."
    return (
        f"Check smtp_host, smtp_port and security in {section}, and that the mail server is "
        "running and reachable from this machine."
    )
