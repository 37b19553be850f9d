"""What a query asks for below the field being resolved."""

from __future__ import annotations

from typing import Any

import strawberry


def selects(info: strawberry.Info[Any, Any], name: str) -> bool:
    """Whether any field called ``name`` is selected below this one (fragments included),
    so a resolver can skip loading what nobody asked for."""
    return any(_contains(field, name) for field in info.selected_fields)


def _contains(selection: Any, name: str) -> bool:
    for child in getattr(selection, "selections", None) or []:
        if getattr(child, "name", None) == name or _contains(child, name):
            return True
    return False
