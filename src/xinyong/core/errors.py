"""Typed errors: each carries a machine code, a Chinese message for users and an HTTP status."""

from __future__ import annotations

from xinyong.core.text import with_controls_shown


class XinyongError(Exception):
    """An expected failure that a user can understand and usually fix."""

    status_code = 400
    code = "error"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code


class PlatformFault(Exception):
    """A fault in the platform's own state that no user can fix, for which it refuses to work
    (an HTTP status, a machine code and a Chinese message, as XinyongError). Deliberately no
    XinyongError: a handler that answers a user's mistake by showing its form again (and letting
    the request's transaction commit) must not catch it and go on."""

    status_code = 503
    code = "platform_fault"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(XinyongError):
    status_code = 404
    code = "not_found"


class Conflict(XinyongError):
    status_code = 409
    code = "conflict"


class DatabaseNotReady(XinyongError):
    """The database is missing or its schema is not at the current migration."""

    status_code = 503
    code = "database_not_ready"


class FileUnreadable(XinyongError):
    """A submitted file could not be read at all (wrong format, encoding, missing columns)."""

    code = "file_unreadable"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(with_controls_shown(message), code=code)  # it may quote a column name padded with NUL
