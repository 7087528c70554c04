"""Round-trip cases for WS-Transfer Get and DPWS device metadata (metadata.py).

"getresponse-scan-device" is the shared example 04 exactly (what Windows expects from a scan device).
"""

from __future__ import annotations

from wsdmon.protocol import Headers, Message
from wsdmon.protocol import namespaces as ns
from wsdmon.protocol._xml import QName
from wsdmon.protocol.metadata import (
    GetMetadataResponse,
    HostedService,
    HostService,
    LocalizedText,
    Relationship,
    ThisDevice,
    ThisModel,
    TransferGet,
)

from .cases_discovery import DEVICE, DEVICE_TYPES, REPOSITORY, REPOSITORY_SERVICE_TYPE, WSDP_DEVICE
from .cases_dsm import mid

GET_ID = "urn:uuid:a1b2c3d4-0000-4000-8000-00000000c0de"
SCANNER_SERVICE_TYPE = QName(ns.WSCN, "ScannerServiceType")
PRINTER_SERVICE_TYPE = QName("http://schemas.microsoft.com/windows/2006/08/wdp/print", "PrinterServiceType")
SCAN_SERVICE = HostedService(
    ("http://192.168.1.50:5358/ScanService/",),
    (SCANNER_SERVICE_TYPE,),
    "uri:4509a320-00a0-008f-00b6-002507510eca/ScannerService",
)

EXAMPLE_04 = GetMetadataResponse(
    Headers.reply(GET_ID, message_id="urn:uuid:8c1c8a3e-4b0f-4a2e-9d41-0a6c1e2f3b04"),
    ThisModel(
        manufacturer_names=(LocalizedText("Example Imaging"),),
        manufacturer_url="http://example.test/",
        model_names=(LocalizedText("Demo MFP 4200"),),
        model_number="4200",
        presentation_url="http://192.168.1.50/",
    ),
    ThisDevice((LocalizedText("Demo MFP 4200 (2nd floor)"),), "1.4.2", "SN-000123"),
    Relationship(HostService(DEVICE, DEVICE_TYPES, DEVICE), (SCAN_SERVICE,)),
)

CASES: dict[str, Message] = {
    "transfer-get": TransferGet.to_device(DEVICE, message_id=GET_ID),
    "getresponse-scan-device": EXAMPLE_04,
    "getresponse-mfp-vendor": GetMetadataResponse(
        Headers.reply(mid(201), message_id=mid(202)),
        ThisModel(
            (LocalizedText("Example Imaging", "en"), LocalizedText("Exemple Imagerie", "fr-FR")),
            "http://example.test/",
            (LocalizedText("Demo MFP 4200", "en"),),
            "4200",
            "http://example.test/models/4200",
            "http://192.168.1.50/",
            ("Printers", "Scanners"),
            (
                '<pnpx:HardwareId xmlns:pnpx="http://schemas.microsoft.com/windows/pnpx/2005/10">'
                "VEN_0000&amp;DEV_4200</pnpx:HardwareId>",
            ),
        ),
        ThisDevice((LocalizedText("Demo MFP 4200 (2nd floor)", "en"),), "1.4.2"),
        Relationship(
            HostService(
                DEVICE, (*DEVICE_TYPES, QName(PRINTER_SERVICE_TYPE.namespace, "PrintDeviceType")), DEVICE
            ),
            (
                SCAN_SERVICE,
                HostedService(
                    ("http://192.168.1.50:5358/PrintService/", "https://192.168.1.50:5359/PrintService/"),
                    (PRINTER_SERVICE_TYPE,),
                    "uri:4509a320-00a0-008f-00b6-002507510eca/PrintService",
                    ('<acme:Queue xmlns:acme="urn:acme">main</acme:Queue>',),
                ),
            ),
        ),
        (
            '<wsx:MetadataSection xmlns:wsx="http://schemas.xmlsoap.org/ws/2004/09/mex"'
            ' Dialect="http://schemas.xmlsoap.org/wsdl/"><wsx:Location>'
            "http://192.168.1.50:5358/wsd/scan.wsdl</wsx:Location></wsx:MetadataSection>",
        ),
    ),
    "getresponse-scan-repository": GetMetadataResponse(
        Headers.reply(mid(203), message_id=mid(204)),
        ThisModel(
            (LocalizedText("Microsoft Corporation"),), None, (LocalizedText("Distributed Scan Server"),)
        ),
        ThisDevice((LocalizedText("SCANSRV"),)),
        Relationship(
            HostService(REPOSITORY, (WSDP_DEVICE, REPOSITORY_SERVICE_TYPE), REPOSITORY),
            (
                HostedService(
                    ("https://scansrv.example.test:5362/ScanServer/553852db-6d5a-4eee-a34f-5b499c1a2944",),
                    (REPOSITORY_SERVICE_TYPE,),
                    "urn:uuid:553852db-6d5a-4eee-a34f-5b499c1a2944/RepositoryConfiguration",
                ),
            ),
        ),
    ),
    "getresponse-empty": GetMetadataResponse(Headers.reply(mid(205), message_id=mid(206))),
}
