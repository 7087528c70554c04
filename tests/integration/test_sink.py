"""The notification sink on a real loopback socket: genuine notifications are recorded before the
202 reply; spoofed and malformed ones are rejected with a counted reason and never recorded."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import aiohttp
import pytest

from tests.unit.protocol.cases_dsm import COMPLETED_STATUS
from wsdmon.net.sink import Accepted, NotificationSink, Registration, RejectReason
from wsdmon.protocol import Headers, encode
from wsdmon.protocol.dsm import PostScanJobStatusEvent

VALID = Path(__file__).resolve().parents[1] / "data" / "valid"
SOAP = {"Content-Type": "application/soap+xml; charset=utf-8"}


def notification(identifier: str | None) -> bytes:
    return encode(
        PostScanJobStatusEvent(
            Headers(message_id="urn:uuid:1", to="x", identifier=identifier), COMPLETED_STATUS
        )
    )


class Harness:
    def __init__(self) -> None:
        self.recorded: list[Accepted] = []
        self.accepted: list[Accepted] = []
        self.rejected: list[RejectReason] = []
        self.sink = NotificationSink(
            record=self._record,
            on_accepted=self.accepted.append,
            on_rejected=lambda reason, detail: self.rejected.append(reason),
            host="127.0.0.1",
            port=0,
            max_body_bytes=64 * 1024,
        )

    async def _record(self, accepted: Accepted) -> int:
        # The sink must not have replied yet: recording happens before the 202.
        self.recorded.append(accepted)
        return len(self.recorded)

    def url(self, reg: Registration) -> str:
        return reg.notify_url("127.0.0.1", self.sink.port)


def run(body: Callable[[Harness, aiohttp.ClientSession], Awaitable[None]]) -> Harness:
    harness = Harness()

    async def main() -> None:
        await harness.sink.start()
        try:
            async with aiohttp.ClientSession() as session:
                await body(harness, session)
        finally:
            await harness.sink.stop()

    asyncio.run(main())
    return harness


def test_genuine_notification_is_recorded_then_accepted() -> None:
    async def body(h: Harness, s: aiohttp.ClientSession) -> None:
        reg = h.sink.register("urn:uuid:dev", "http://dev/svc")
        async with s.post(h.url(reg), data=notification(reg.identifier), headers=SOAP) as resp:
            assert resp.status == 202
            assert len(h.recorded) == 1  # recorded before the reply was sent

    h = run(body)
    assert len(h.accepted) == 1
    assert h.accepted[0].journal_id == 1
    assert isinstance(h.accepted[0].message, PostScanJobStatusEvent)
    assert h.sink.counters["accepted"] == 1


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("no-identifier", RejectReason.NO_IDENTIFIER),
        ("unknown-identifier", RejectReason.UNKNOWN_IDENTIFIER),
        ("wrong-path", RejectReason.WRONG_PATH),
        ("ended-subscription", RejectReason.ENDED_SUBSCRIPTION),
        ("other-subscriptions-identifier", RejectReason.UNKNOWN_IDENTIFIER),
        ("content-type", RejectReason.CONTENT_TYPE),
        ("too-large", RejectReason.TOO_LARGE),
        ("too-large-chunked", RejectReason.TOO_LARGE),  # no Content-Length: measured once read
        ("too-large-chunked-over-1-MiB", RejectReason.TOO_LARGE),  # aiohttp stops reading at 1 MiB
        ("malformed", RejectReason.MALFORMED),
        ("get", RejectReason.WRONG_METHOD),
    ],
)
def test_spoofed_or_broken_notifications_never_reach_the_journal(case: str, expected: RejectReason) -> None:
    async def body(h: Harness, s: aiohttp.ClientSession) -> None:
        reg = h.sink.register("urn:uuid:dev", "http://dev/svc")
        other = h.sink.register("urn:uuid:dev2", "http://dev2/svc")
        url, data, headers = h.url(reg), notification(reg.identifier), dict(SOAP)
        method = "POST"
        if case == "no-identifier":
            data = notification(None)
        elif case == "unknown-identifier":
            data = notification("urn:uuid:00000000-0000-4000-8000-00000000dead")
        elif case == "wrong-path":
            url = url.rsplit("/", 1)[0] + "/guessed"
        elif case == "ended-subscription":
            h.sink.retire(reg)
        elif case == "other-subscriptions-identifier":
            data = notification(other.identifier)
        elif case == "content-type":
            headers = {"Content-Type": "text/plain"}
        elif case == "too-large":
            data = data.replace(b"</soap:Envelope>", b"<!--" + b"x" * 70000 + b"--></soap:Envelope>")
        elif case.startswith("too-large-chunked"):
            size = 2 * 1024 * 1024 if case.endswith("MiB") else 70000
            padded = data.replace(b"</soap:Envelope>", b"<!--" + b"x" * size + b"--></soap:Envelope>")

            async def chunks() -> AsyncIterator[bytes]:
                for at in range(0, len(padded), 16384):
                    yield padded[at : at + 16384]

            data = chunks()  # type: ignore[assignment]
        elif case == "malformed":
            data = (VALID.parent / "malformed" / "xxe-external-entity.xml").read_bytes()
        elif case == "get":
            method = "GET"
        async with s.request(method, url, data=data, headers=headers) as resp:
            assert resp.status >= 400

    h = run(body)
    assert h.recorded == []
    assert h.accepted == []
    assert h.rejected == [expected]
    assert h.sink.counters[expected] == 1


def test_resubscription_retires_the_old_identifier() -> None:
    async def body(h: Harness, s: aiohttp.ClientSession) -> None:
        old = h.sink.register("urn:uuid:dev", "http://dev/svc")
        h.sink.retire(old)
        new = h.sink.register("urn:uuid:dev", "http://dev/svc")
        # The old identifier on the new path: a replay from the ended subscription.
        async with s.post(h.url(new), data=notification(old.identifier), headers=SOAP) as resp:
            assert resp.status == 403
        async with s.post(h.url(new), data=notification(new.identifier), headers=SOAP) as resp:
            assert resp.status == 202

    h = run(body)
    assert h.rejected == [RejectReason.ENDED_SUBSCRIPTION]
    assert len(h.recorded) == 1


def test_recording_failure_is_reported_not_accepted() -> None:
    async def body(h: Harness, s: aiohttp.ClientSession) -> None:
        async def broken(accepted: Accepted) -> int:
            raise OSError("disk full")

        h.sink._record = broken  # the journal failing mid-run
        reg = h.sink.register("urn:uuid:dev", "http://dev/svc")
        async with s.post(h.url(reg), data=notification(reg.identifier), headers=SOAP) as resp:
            assert resp.status == 503

    h = run(body)
    assert h.accepted == []
    assert h.rejected == [RejectReason.JOURNAL_FAILED]
