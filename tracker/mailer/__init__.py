"""The scorecard e-mail: settings, MIME message, SMTP delivery with retries.

Settings come from the ``[mail]`` and ``[smtp]`` tables of ``tracker.toml``;
the SMTP password comes only from the environment variable
``TRACKER_SMTP_PASSWORD`` (:attr:`tracker.config.Settings.smtp_password`), is
held as a :class:`~pydantic.SecretStr` and unwrapped only in the call to
``SMTP.login``. It is never read from a file, logged or written anywhere.

One message goes to each recipient (each sees only their own address);
:func:`tracker.mailer.outbox.send_week` records every step in the outbox ledger so
that a week is never sent twice.

Failures are sorted into three kinds:

transient
    connection refused or reset, timeouts, DNS failure, a dropped connection,
    any 4xx reply: retried with exponential backoff
    (``backoff_s * 2**(attempt-1)``, capped at ``backoff_max_s``) up to
    ``max_attempts``, then :class:`MailTransientError` (exit 75).
permanent
    any 5xx reply, TLS refused, STARTTLS or AUTH not offered:
    :class:`MailPermanentError` (exit 69), no retry. A 5xx for one recipient
    (``RCPT`` refused) marks that recipient failed and the others are still served.
authentication
    the server refused the username/password: :class:`MailAuthError` (exit 77).

Modules: :mod:`tracker.mailer.settings` (``tracker.toml``, validation, the
password), :mod:`tracker.mailer.message` (the MIME message) and
:mod:`tracker.mailer.transport` (the SMTP session, failure kinds, retries).
Everything public is re-exported here.
"""

from tracker.mailer.message import (
    SMTP_POLICY,
    InlineImage,
    MailContent,
    build_message,
    new_content_id,
    new_message_id,
)
from tracker.mailer.settings import (
    DEFAULT_PORTS,
    LOCAL_HOSTS,
    PASSWORD_ENV,
    HeaderInjection,
    Mailbox,
    MailConfig,
    MailSettings,
    SmtpSettings,
    check_header_value,
    load_mail_config,
    smtp_password,
)
from tracker.mailer.transport import (
    DATA_TIMEOUT_S,
    DeliveryInDoubt,
    MailAuthError,
    MailError,
    MailPermanentError,
    MailTransientError,
    RecipientRefused,
    SmtpTransport,
    backoff_delay,
    send_one,
)

__all__ = [
    "DATA_TIMEOUT_S",
    "DEFAULT_PORTS",
    "LOCAL_HOSTS",
    "PASSWORD_ENV",
    "SMTP_POLICY",
    "DeliveryInDoubt",
    "HeaderInjection",
    "InlineImage",
    "MailAuthError",
    "MailConfig",
    "MailContent",
    "MailError",
    "MailPermanentError",
    "MailSettings",
    "MailTransientError",
    "Mailbox",
    "RecipientRefused",
    "SmtpSettings",
    "SmtpTransport",
    "backoff_delay",
    "build_message",
    "check_header_value",
    "load_mail_config",
    "new_content_id",
    "new_message_id",
    "send_one",
    "smtp_password",
]
