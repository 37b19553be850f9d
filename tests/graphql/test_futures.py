"""Futures for resolvers that answer without a coroutine: results, errors and cancellation
pass through."""

from __future__ import annotations

import asyncio

import pytest

from bff.graphql.futures import answered, mapped


async def test_answered_holds_its_value():
    future = answered(7)
    assert future.done()
    assert await future == 7


async def test_mapped_converts_what_the_source_resolves_to():
    source = asyncio.get_running_loop().create_future()
    result = mapped(source, lambda value: value * 2)
    assert not result.done()
    source.set_result(21)
    assert await result == 42


async def test_mapped_passes_on_errors_and_cancellation():
    failing = asyncio.get_running_loop().create_future()
    failed = mapped(failing, str)
    failing.set_exception(LookupError("gone"))
    with pytest.raises(LookupError, match="gone"):
        await failed
    cancelled_source = asyncio.get_running_loop().create_future()
    cancelled = mapped(cancelled_source, str)
    cancelled_source.cancel()
    with pytest.raises(asyncio.CancelledError):
        await cancelled


async def test_a_conversion_that_raises_fails_the_result():
    result = mapped(answered("x"), int)
    with pytest.raises(ValueError, match="invalid literal"):
        await result
