"""A plain WS-Scan event subscriber built on wsdmon.protocol, run inside the peer network namespace by
test_sim_sane_airscan.py: it subscribes to the scanner service at SERVICE_URL for every event, with a
ScanDestination as Windows registers one, and reports on stdout, one JSON object per line:
  ready / subscribed (with the DestinationTokens granted) / job-status / job-end / other
Usage: scan_subscriber.py ADDRESS SERVICE_URL; reads `quit` from stdin.
"""

from __future__ import annotations

import asyncio
import json
import sys
from datetime import timedelta
from typing import Any

import aiohttp
from aiohttp import web

from wsdmon.protocol import EndpointReference, Headers, decode, encode
from wsdmon.protocol.eventing import Subscribe, SubscribeResponse
from wsdmon.protocol.scan import JobEndStateEvent, JobStatusEvent
from wsdmon.protocol.scan_destinations import (
    ScanDestination,
    read_destination_responses,
    write_scan_destinations,
)

IDENTIFIER = "urn:uuid:0b5e77e2-0000-4000-8000-0000000000a1"


def say(**fields: Any) -> None:
    print(json.dumps(fields), flush=True)


async def sink(request: web.Request) -> web.Response:
    message = decode(await request.read())
    if isinstance(message, JobStatusEvent):
        status = message.job_status
        say(
            event="job-status",
            job_id=status.job_id,
            state=str(status.job_state),
            reasons=[str(r) for r in status.job_state_reasons],
            scans_completed=status.scans_completed,
        )
    elif isinstance(message, JobEndStateEvent):
        end = message.end_state
        say(
            event="job-end",
            job_id=end.job_id,
            state=str(end.job_completed_state),
            job_name=end.job_name,
            user=end.job_originating_user_name,
            scans_completed=end.scans_completed,
        )
    else:
        say(event="other", action=getattr(message, "action", None))
    return web.Response(status=202)


async def main(address: str, service: str) -> None:
    loop = asyncio.get_running_loop()
    app = web.Application()
    app.router.add_post("/sink", sink)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, address, 0).start()
    port = runner.addresses[0][1]
    ref = EndpointReference(f"http://{address}:{port}/sink", IDENTIFIER)
    destination = write_scan_destinations([ScanDestination("Scan to test", "test-context")])
    request = Subscribe(Headers.request(service), ref, timedelta(minutes=5), extensions=(destination,))
    async with aiohttp.ClientSession() as http, http.post(service, data=encode(request)) as response:
        answer = decode(await response.read())
    assert isinstance(answer, SubscribeResponse), answer
    tokens = [r.destination_token for r in read_destination_responses(answer.extensions)]
    contexts = [r.client_context for r in read_destination_responses(answer.extensions)]
    say(event="subscribed", tokens=tokens, contexts=contexts)
    stdin = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(stdin), sys.stdin)
    await stdin.readline()
    await runner.cleanup()
    say(event="stopped")


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
