"""Futures for resolvers that answer without a coroutine of their own."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")
U = TypeVar("U")


def answered(value: T) -> asyncio.Future[T]:
    """A future that already holds ``value``."""
    future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
    future.set_result(value)
    return future


def mapped(source: Awaitable[T], convert: Callable[[T], U]) -> asyncio.Future[U]:
    """``convert`` of what the future ``source`` (a DataLoader's) resolves to, without a task."""
    loaded = asyncio.ensure_future(source)
    result: asyncio.Future[U] = asyncio.get_running_loop().create_future()

    def pass_on(done: asyncio.Future[T]) -> None:
        if result.done():
            return
        if done.cancelled():
            result.cancel()
        elif (error := done.exception()) is not None:
            result.set_exception(error)
        else:
            try:
                result.set_result(convert(done.result()))
            except Exception as conversion_error:  # handed to whoever awaits the result
                result.set_exception(conversion_error)

    loaded.add_done_callback(pass_on)
    return result
