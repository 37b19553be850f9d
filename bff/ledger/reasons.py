"""Why an entry was made, in each reader's language.

An entry the service makes keeps a message code and its parameters
(``LEDGER_GIFT``, ``{"title": ...}``) beside the English text; it is shown in the
language of whoever reads the history. A staff member's own words are kept as written.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from bff.kernel.i18n import message
from bff.ledger.models import LedgerEntry


@dataclass(frozen=True)
class Reason:
    code: str
    params: Mapping[str, Any] = field(default_factory=dict)

    @property
    def text(self) -> str:
        """The English words, stored with the entry for staff and exports."""
        return message(self.code, "en", dict(self.params))


def entry_reason(entry: LedgerEntry, locale: str) -> str:
    """The entry's reason in ``locale``."""
    if entry.reason_code:
        return message(entry.reason_code, locale, dict(entry.reason_params or {}))
    return entry.reason
