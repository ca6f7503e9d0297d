"""The one business-error type: services raise it, one handler turns it into the API's error body."""

from __future__ import annotations


class ServiceError(Exception):
    """A business rule refused the operation; nothing was changed.

    `code` is stable for clients; `fields` maps field names to messages for forms and the API.
    """

    status_code = 400

    def __init__(self, message: str, *, code: str = "invalid", fields: dict[str, list[str]] | None = None,
                 status_code: int | None = None) -> None:
        super().__init__(message)
        self.message = str(message)
        self.code = code
        self.fields = fields or {}
        if status_code is not None:
            self.status_code = status_code


class IllegalTransition(ServiceError):
    """A job status move that the status machine does not allow."""

    status_code = 409
