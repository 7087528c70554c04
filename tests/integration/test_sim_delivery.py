"""The simulator's notification client (simulator/delivery.py) against real servers on loopback:
in-order pipelined delivery, `Connection: close`, a dropped idle keep-alive connection, chunked and
close-delimited answers, error statuses, timeouts and refused connections."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

import pytest

from wsdmon.simulator.delivery import SubscriberConnection, parse_url

from .sim_support import Sink, run

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


async def raw_server(handler: Handler) -> tuple[asyncio.Server, str]:
    async def closing(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await handler(reader, writer)
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()

    server = await asyncio.start_server(closing, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    return server, f"http://127.0.0.1:{port}/sink"


async def read_request(reader: asyncio.StreamReader) -> bytes | None:
    """One request's body; None at the end of the connection."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except (asyncio.IncompleteReadError, ConnectionError):
        return None
    length = next(
        int(x.split(b":")[1]) for x in head.split(b"\r\n") if x.lower().startswith(b"content-length")
    )
    return await reader.readexactly(length)


def test_parse_url() -> None:
    target = parse_url("http://[fe80::1%25eth0]:8080/a/b?x=1")
    assert (target.host, target.port, target.tls, target.path) == ("fe80::1%eth0", 8080, False, b"/a/b?x=1")
    assert parse_url("https://sink.example/").port == 443
    for bad in ("ftp://x/", "urn:uuid:1", "http:///nohost"):
        with pytest.raises(ValueError, match="not an http"):
            parse_url(bad)


def test_pipelined_batches_arrive_in_order_on_one_connection() -> None:
    async def body() -> None:
        sink = await Sink().start()
        connection = SubscriberConnection(sink.url(), 5.0)
        try:
            bodies = [f"<n>{i}</n>".encode() for i in range(20)]
            assert await connection.post_many(bodies[:8]) == [None] * 8
            assert await connection.post_many(bodies[8:]) == [None] * 12
            assert [r.data for r in sink.received] == bodies
            sink.status = 500
            assert await connection.post_many([b"<x/>"]) == ["HTTP 500"]
        finally:
            await connection.close()
            await sink.close()

    run(body)


def test_connection_close_and_a_dropped_idle_connection_resend_only_what_was_not_taken() -> None:
    async def body() -> None:
        seen: list[bytes] = []
        connections = 0

        async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            nonlocal connections
            connections += 1
            if connections == 2:  # the second connection takes one request, then says close
                seen.append(await read_request(reader) or b"")
                writer.write(b"HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                await writer.drain()
                writer.close()
                return
            while (data := await read_request(reader)) is not None:
                seen.append(data)
                writer.write(
                    b"HTTP/1.1 202 Accepted\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n"
                )
                await writer.drain()
                if connections == 1:
                    writer.close()  # drops the idle keep-alive connection after one answer
                    return

        server, url = await raw_server(handler)
        connection = SubscriberConnection(url, 5.0)
        try:
            assert await connection.post_many([b"a"]) == [None]
            await asyncio.sleep(0.05)
            # The reused connection is gone: sent again on a new one, which closes after "b".
            assert await connection.post_many([b"b", b"c", b"d"]) == [None, None, None]
            assert seen == [b"a", b"b", b"c", b"d"]
            assert connections == 3
        finally:
            await connection.close()
            server.close()
            await server.wait_closed()

    run(body)


def test_failures_are_reported_per_message() -> None:
    async def body() -> None:
        async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await read_request(reader)
            await reader.read()  # never answers; ends when the client gives up and closes

        async def close_delimited(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await read_request(reader)
            writer.write(b"HTTP/1.0 200 OK\r\n\r\nfine")
            await writer.drain()

        quiet, quiet_url = await raw_server(silent)
        plain, plain_url = await raw_server(close_delimited)
        port = quiet.sockets[0].getsockname()[1]
        quiet.close()  # stop accepting (the old listening socket goes away); reopen below
        await quiet.wait_closed()
        quiet, quiet_url = await raw_server(silent)
        try:
            slow = SubscriberConnection(quiet_url, 0.2)
            assert await slow.post_many([b"x", b"y"]) == ["no answer within 0.2 s"] * 2
            await slow.close()
            legacy = SubscriberConnection(plain_url, 2.0)
            assert await legacy.post_many([b"x"]) == [None]
            await legacy.close()
            refused = SubscriberConnection(f"http://127.0.0.1:{port}/gone", 1.0)
            (error,) = await refused.post_many([b"x"])
            assert error is not None
            assert "Connect" in error or "refused" in error.lower()
        finally:
            for server in (quiet, plain):
                server.close()
                await server.wait_closed()

    run(body)


def test_each_answer_is_counted_as_it_comes_even_when_the_batch_is_cut_short() -> None:
    """A subscription dropped mid-batch (Unsubscribe cancels its delivery task) still counts what the
    subscriber acknowledged: the tests compare that count with what a monitor stored."""

    async def body() -> None:
        sink = await Sink(delay=0.3).start()  # answers at 0.3, 0.6, 0.9 s: one at a time, in order
        connection = SubscriberConnection(sink.url(), 5.0)
        taken: list[float] = []
        loop = asyncio.get_running_loop()
        try:
            posting = asyncio.ensure_future(
                connection.post_many([b"<a/>", b"<b/>", b"<c/>"], lambda: taken.append(loop.time()))
            )
            await asyncio.sleep(0.45)
            posting.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await posting
            assert len(taken) == 1  # the first answer came before the cut: counted
        finally:
            await connection.close()
            await sink.close()

    run(body)
