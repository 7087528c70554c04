"""The engine against a real MFP's own metadata: the Kyocera ECOSYS M2040dn's GetResponse from the
shared corpus, served byte for byte on loopback (only its addresses rewritten to the test's server, so
nothing leaves the machine). Its endpoint address is `uuid:…` (not urn:uuid:) and its metadata has no
Host: the engine must address the Get to that endpoint (DPWS §5.1), keep the device under it, and
find its scanner service among some 25 others. And the simulated scanner answers in that shape."""

from __future__ import annotations

from pathlib import Path

import aiohttp
from aiohttp import web
from lxml import etree

from wsdmon.core import Role as DeviceRole
from wsdmon.core.devices import SCANNER_SERVICE_TYPE
from wsdmon.protocol import Headers, QName, decode
from wsdmon.protocol import namespaces as ns
from wsdmon.protocol.metadata import GetMetadataResponse, TransferGet
from wsdmon.protocol.scan import GetScannerElementsRequest, GetScannerElementsResponse
from wsdmon.protocol.scan_ticket import ScannerDescription, from_raw
from wsdmon.simulator import Role, Simulator, SimulatorConfig
from wsdmon.simulator.device import DEVICE_FOUNDATION, PNPX
from wsdmon.simulator.plans import VENDOR_NS

from .sim_support import call, run
from .test_engine_sim import new_engine

REAL = Path(__file__).resolve().parents[2].parent / "shared" / "corpus" / "real-devices"
METADATA = REAL / "kyocera-ecosys-m2040dn.getresponse-metadata.xml"
ENDPOINT = "uuid:4509a320-00a0-008f-00b6-002507510eca"  # from its ProbeMatch
DESCRIPTION = QName(ns.WSCN, "ScannerDescription")
ADDRESSES = (b"http://192.168.1.102:5358", b"http://[fe80::217:c8ff:fe7b:6a91]:5358")


def test_a_real_mfps_host_less_metadata_under_its_uuid_endpoint(tmp_path: Path) -> None:
    assert METADATA.is_file(), f"{METADATA} is missing: shared/ must sit beside the repository"
    gets: list[str | None] = []

    async def body() -> None:
        async def device_service(request: web.Request) -> web.Response:
            gets.append(decode(await request.read()).header.to)
            data = METADATA.read_bytes()
            for address in ADDRESSES:
                data = data.replace(address, base.encode())
            return web.Response(body=data, content_type="application/soap+xml")

        app = web.Application()
        app.router.add_post("/DeviceService/", device_service)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        base = f"http://127.0.0.1:{port}"
        engine, journal = new_engine(tmp_path)
        await engine.start()
        try:
            record = await engine.sighting(ENDPOINT, (f"{base}/DeviceService/",), 1, 1727722437)
        finally:
            await engine.stop()
            journal.close()
            await runner.cleanup()
        assert record is not None
        assert record.endpoint == ENDPOINT
        assert record.friendly_name == "Kyocera:ECOSYS M2040dn:KM7B6A91"
        assert record.roles == {DeviceRole.SCAN_DEVICE}
        assert [s.address for s in record.services] == [f"{base}/WSDScanner"]
        assert [d.endpoint for d in engine.devices] == [ENDPOINT]

    run(body)
    assert gets, "no metadata Get arrived"
    assert set(gets) == {ENDPOINT}, gets  # wsa:To is its endpoint address, not the URL


def _namespaces(raw: tuple[str, ...]) -> set[str]:
    return {etree.QName(etree.fromstring(x)).namespace or "" for x in raw}


def test_the_simulated_scanner_is_shaped_like_the_real_mfp() -> None:
    """What the simulator's scan device answers has the Kyocera's shape (issue 12 Done-when)."""
    real = decode(METADATA.read_bytes())
    assert isinstance(real, GetMetadataResponse)

    async def body() -> None:
        config = SimulatorConfig(role=Role.SCAN_DEVICE, host="127.0.0.1", discovery=False, wsd_port=0)
        async with Simulator(config) as sim, aiohttp.ClientSession() as session:
            scanner = sim.device(Role.SCAN_DEVICE)
            assert scanner.endpoint.startswith("uuid:")  # as the Kyocera's ProbeMatch, not urn:uuid:
            _, mine = await call(
                session, scanner.metadata_url, TransferGet(Headers.request(scanner.endpoint))
            )
            assert isinstance(mine, GetMetadataResponse)
            for metadata in (real, mine):
                assert metadata.host is None  # no Host: only Hosted services
                (service,) = metadata.hosted_services_of_type(SCANNER_SERVICE_TYPE)
                assert service.service_id is not None
                assert service.service_id.startswith("uri:")
                assert PNPX in _namespaces(service.extensions)  # CompatibleId, HardwareId
                assert metadata.this_device is not None
                assert DEVICE_FOUNDATION in _namespaces(metadata.this_device.extensions)  # ContainerId
            assert mine.this_device is not None
            assert VENDOR_NS in _namespaces(mine.this_device.extensions)
            request = GetScannerElementsRequest(Headers.request(scanner.service_url), (DESCRIPTION,))
            _, answer = await call(session, scanner.service_url, request)
            assert isinstance(answer, GetScannerElementsResponse)
            description = from_raw(answer.elements[0].content, ScannerDescription)
            assert _namespaces(description.extensions) == {VENDOR_NS}  # a vendor namespace beside wscn

    run(body)
