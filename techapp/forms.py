"""The completion report's fields: the same form as mapping's "my day" (its labels and limits),
drawn by the app; the app's service checks the values again when the action is applied."""

from __future__ import annotations

from integration.techapp import CompletionForm

__all__ = ["CompletionForm"]
