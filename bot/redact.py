"""Secrets (the bot token, the webhook secret) never reach a log line, a traceback or an error line.

``install_redaction(token)`` puts one :class:`Redactor` on every root log handler; it rewrites each
record's message, arguments, exception text and stack text before any handler formats it.
:func:`redact` applies the same to any other text (the CLI's one-line errors).
"""

from __future__ import annotations

import logging
from urllib.parse import quote

REDACTED = "<redacted>"
_FORMATTER = logging.Formatter()


class Redactor(logging.Filter):
    """A handler filter that replaces every known secret in a record by ``<redacted>``."""

    def __init__(self, *secrets: str) -> None:
        super().__init__()
        self._forms: list[str] = []
        self.add(*secrets)

    def add(self, *secrets: str) -> None:
        """Also redact these; a bot token's secret half (after the colon) is redacted on its own too."""
        forms = set(self._forms)
        for secret in filter(None, secrets):
            forms |= {secret, quote(secret, safe="")}
            _bot_id, colon, secret_half = secret.partition(":")
            if colon and len(secret_half) >= 8:
                forms.add(secret_half)
        self._forms = sorted(forms, key=len, reverse=True)

    def redact(self, text: str) -> str:
        """``text`` with every secret replaced (a ``bot<TOKEN>`` URL becomes ``bot<redacted>``)."""
        for form in self._forms:
            text = text.replace(form, REDACTED)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        if not self._forms:
            return True
        try:
            message = record.getMessage()
        except Exception:  # a malformed call: the handler reports it, with the raw msg and args
            return True
        record.msg, record.args = self.redact(message), None
        if record.exc_info:  # the traceback is formatted here, once, and only its redacted text is kept
            record.exc_text = _FORMATTER.formatException(record.exc_info)
            record.exc_info = None
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True


_PROCESS_REDACTOR = Redactor()


def install_redaction(*secrets: str) -> None:
    """Redact ``secrets`` from every root log handler's output and from :func:`redact`, from now on.

    Idempotent; call again to add a secret. It also quiets httpx's per-request INFO lines (their
    URLs hold the token).
    """
    _PROCESS_REDACTOR.add(*secrets)
    for handler in logging.getLogger().handlers:
        if _PROCESS_REDACTOR not in handler.filters:
            handler.addFilter(_PROCESS_REDACTOR)
    logging.getLogger("httpx").setLevel(logging.WARNING)


def redact(text: str) -> str:
    """``text`` without any secret given to :func:`install_redaction`."""
    return _PROCESS_REDACTOR.redact(text)
