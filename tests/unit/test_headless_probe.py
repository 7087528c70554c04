"""A long-running monitor (`wsdmon collect`) repeats its directed probes (--probe): a device that
was off or rebooting when it started is found later, one that answers is probed as often as
multicast discovery re-probes; what it says is said once per change, not once per probe."""

import asyncio
from typing import Any

from wsdmon.headless import DIRECTED_REPROBE_S, _probe
from wsdmon.net.discovery import REPROBE_INTERVAL_S


class Discovery:
    def __init__(self, answers: list[Any]) -> None:
        self.answers = answers
        self.probed = 0

    async def probe_host(self, target: str) -> int:
        answer = self.answers[min(self.probed, len(self.answers) - 1)]
        self.probed += 1
        if isinstance(answer, BaseException):
            raise answer
        return int(answer)


def _run(discovery: Discovery, seconds: float) -> list[str]:
    said: list[str] = []

    async def main() -> None:
        task = asyncio.ensure_future(
            _probe(discovery, "10.0.0.9", lambda text, **_: said.append(text), every_s=0.05, retry_s=0.01)
        )
        await asyncio.sleep(seconds)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    asyncio.run(main())
    return said


def test_a_target_that_did_not_answer_at_start_is_probed_again_until_it_does() -> None:
    discovery = Discovery([0, 0, 0, OSError("network unreachable"), 0, 1])
    said = _run(discovery, 0.2)
    assert discovery.probed >= 7  # five misses at the retry pace, then answered, then re-probed
    assert said == [
        "no device answered the directed probe of 10.0.0.9; trying again every 0 s",
        "10.0.0.9 answers the directed probe again",
    ]


def test_an_answering_target_is_reprobed_at_the_slower_pace_and_a_bad_one_is_left() -> None:
    answering = Discovery([1])
    _run(answering, 0.12)
    assert 2 <= answering.probed <= 4  # every 0.05 s, not every 0.01 s
    bad = Discovery([ValueError("not a host name")])
    assert _run(bad, 0.05) == ["directed probe of 10.0.0.9 failed: not a host name"]
    assert bad.probed == 1


def test_directed_reprobes_keep_the_pace_of_multicast_discovery() -> None:
    assert DIRECTED_REPROBE_S == REPROBE_INTERVAL_S
