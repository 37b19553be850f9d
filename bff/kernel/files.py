"""Files made once and then only read, by whichever process needs them first."""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Callable
from pathlib import Path


def read_or_create(path: Path, make: Callable[[], bytes]) -> bytes:
    """The file's bytes, made by ``make`` when there is no file yet.

    Processes start together (the workers of ``serve --workers N``) and may all find no
    file: each writes its own to a draft of its own, readable by its owner only, and the
    first to link it into place wins; the others read the winner's. A reader never sees
    a half-written file, and nobody replaces one that exists.
    """
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        draft = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(descriptor, "wb") as file:
                file.write(make())
            with contextlib.suppress(FileExistsError):
                os.link(draft, path)
        finally:
            draft.unlink()
    return path.read_bytes()
