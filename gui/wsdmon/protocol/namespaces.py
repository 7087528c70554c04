"""Every namespace and action URI wsdmon speaks, grouped by specification.

Namespaces are matched by URI, never by prefix: the prefixes here are only what *we* write.
"""

from __future__ import annotations

from typing import Final

# --- SOAP 1.2 (W3C SOAP 1.2 Part 1, §5) --------------------------------------------------------
SOAP: Final = "http://www.w3.org/2003/05/soap-envelope"
XML: Final = "http://www.w3.org/XML/1998/namespace"

# --- WS-Addressing 2004/08 (member submission, §2-§3) ------------------------------------------
WSA: Final = "http://schemas.xmlsoap.org/ws/2004/08/addressing"
WSA_ANONYMOUS: Final = WSA + "/role/anonymous"
WSA_FAULT_ACTION: Final = WSA + "/fault"

# --- WS-Discovery 2005/04 (§2.4 protocol assignments, §4-§6 messages) ---------------------------
WSD: Final = "http://schemas.xmlsoap.org/ws/2005/04/discovery"
WSD_URN: Final = "urn:schemas-xmlsoap-org:ws:2005:04:discovery"  # multicast wsa:To (§2.4)
WSD_HELLO: Final = WSD + "/Hello"
WSD_BYE: Final = WSD + "/Bye"
WSD_PROBE: Final = WSD + "/Probe"
WSD_PROBE_MATCHES: Final = WSD + "/ProbeMatches"
WSD_RESOLVE: Final = WSD + "/Resolve"
WSD_RESOLVE_MATCHES: Final = WSD + "/ResolveMatches"
# Scope matching rules (§5.1). 2005/04 names the default prefix rule rfc2396; "rfc3986" is WS-Discovery
# 1.1's name (under its own 2009/01 namespace), accepted here as an alias of rfc2396.
WSD_MATCH_RFC2396: Final = WSD + "/rfc2396"
WSD_MATCH_RFC3986: Final = WSD + "/rfc3986"
WSD_MATCH_UUID: Final = WSD + "/uuid"
WSD_MATCH_LDAP: Final = WSD + "/ldap"
WSD_MATCH_STRCMP0: Final = WSD + "/strcmp0"
MULTICAST_IPV4: Final = "239.255.255.250"
MULTICAST_IPV6: Final = "ff02::c"
DISCOVERY_PORT: Final = 3702

# --- WS-Eventing 2004/08 (member submission, §3-§4) --------------------------------------------
WSE: Final = "http://schemas.xmlsoap.org/ws/2004/08/eventing"
WSE_SUBSCRIBE: Final = WSE + "/Subscribe"
WSE_SUBSCRIBE_RESPONSE: Final = WSE + "/SubscribeResponse"
WSE_RENEW: Final = WSE + "/Renew"
WSE_RENEW_RESPONSE: Final = WSE + "/RenewResponse"
WSE_GET_STATUS: Final = WSE + "/GetStatus"
WSE_GET_STATUS_RESPONSE: Final = WSE + "/GetStatusResponse"
WSE_UNSUBSCRIBE: Final = WSE + "/Unsubscribe"
WSE_UNSUBSCRIBE_RESPONSE: Final = WSE + "/UnsubscribeResponse"
WSE_SUBSCRIPTION_END: Final = WSE + "/SubscriptionEnd"
WSE_DELIVERY_PUSH: Final = WSE + "/DeliveryModes/Push"
WSE_STATUS_DELIVERY_FAILURE: Final = WSE + "/DeliveryFailure"
WSE_STATUS_SOURCE_SHUTTING_DOWN: Final = WSE + "/SourceShuttingDown"
WSE_STATUS_SOURCE_CANCELLING: Final = WSE + "/SourceCancelling"
# §3.1: the filter dialect implied when wse:Filter has no Dialect attribute.
WSE_XPATH_DIALECT: Final = "http://www.w3.org/TR/1999/REC-xpath-19991116"

# --- WS-Transfer 2004/09 and WS-MetadataExchange 2004/09 (DPWS 2006/02 §5) ----------------------
WXF: Final = "http://schemas.xmlsoap.org/ws/2004/09/transfer"
WXF_GET: Final = WXF + "/Get"
WXF_GET_RESPONSE: Final = WXF + "/GetResponse"
WSX: Final = "http://schemas.xmlsoap.org/ws/2004/09/mex"

# --- DPWS 2006/02 (§5.1 metadata dialects, §6.2.2 action filter) --------------------------------
WSDP: Final = "http://schemas.xmlsoap.org/ws/2006/02/devprof"
WSDP_THIS_MODEL: Final = WSDP + "/ThisModel"
WSDP_THIS_DEVICE: Final = WSDP + "/ThisDevice"
WSDP_RELATIONSHIP: Final = WSDP + "/Relationship"
WSDP_HOST_RELATIONSHIP: Final = WSDP + "/host"
WSDP_ACTION_FILTER: Final = WSDP + "/Action"
PNPX: Final = "http://schemas.microsoft.com/windows/pnpx/2005/10"

# --- WS-Scan (Windows driver docs, "WSD Scan Service") ------------------------------------------
WSCN: Final = "http://schemas.microsoft.com/windows/2006/08/wdp/scan"
WSCN_JOB_STATUS_EVENT: Final = WSCN + "/JobStatusEvent"
WSCN_JOB_END_STATE_EVENT: Final = WSCN + "/JobEndStateEvent"
WSCN_SCANNER_STATUS_SUMMARY_EVENT: Final = WSCN + "/ScannerStatusSummaryEvent"
WSCN_SCANNER_STATUS_CONDITION_EVENT: Final = WSCN + "/ScannerStatusConditionEvent"
WSCN_SCANNER_STATUS_CONDITION_CLEARED_EVENT: Final = WSCN + "/ScannerStatusConditionClearedEvent"
# The one WS-Scan operation a monitor needs: the scanner's status now ("GetScannerElements").
WSCN_GET_SCANNER_ELEMENTS: Final = WSCN + "/GetScannerElements"
WSCN_GET_SCANNER_ELEMENTS_RESPONSE: Final = WSCN + "/GetScannerElementsResponse"
WSCN_SCANNER_ELEMENTS_CHANGE_EVENT: Final = WSCN + "/ScannerElementsChangeEvent"
WSCN_SCAN_AVAILABLE_EVENT: Final = WSCN + "/ScanAvailableEvent"
# The scanner's job lists ("GetActiveJobs" / "GetJobHistory" operations): scan_jobs.py.
WSCN_GET_ACTIVE_JOBS: Final = WSCN + "/GetActiveJobs"
WSCN_GET_ACTIVE_JOBS_RESPONSE: Final = WSCN + "/GetActiveJobsResponse"
WSCN_GET_JOB_HISTORY: Final = WSCN + "/GetJobHistory"
WSCN_GET_JOB_HISTORY_RESPONSE: Final = WSCN + "/GetJobHistoryResponse"
# Distributed Scan Management device: the driver docs' DSM examples ("JobStatusEvent Example",
# "ScannerStatusConditionEvent Example", ...) wrap the wscn event bodies in dsd: elements under the
# same wscn actions. Accepted on input (scan.py), never written, so no prefix in PREFIXES.
DSD: Final = "http://schemas.microsoft.com/windows/2008/12/wdp/distributedscan/device"

# XOP 1.0 §5: xop:Include points an MTOM message at its binary part (WS-Scan RetrieveImageResponse).
XOP: Final = "http://www.w3.org/2004/08/xop/include"

# --- WS-Print (Windows driver docs, "WSD Print Service") ----------------------------------------
# Only its Types QNames (pri:PrintDeviceType, pri:PrinterServiceType) appear, in an MFP's discovery
# messages and metadata.
PRI: Final = "http://schemas.microsoft.com/windows/2006/08/wdp/print"

# --- MS-BDSRR scan repository (§2.2.1 namespaces, §3.2.4 operations and events) -----------------
DSC: Final = "http://schemas.microsoft.com/windows/2008/12/wdp/distributedscan/configuration"
PSP: Final = "http://schemas.microsoft.com/windows/2008/02/imaging/postscan/psp"
DSC_GET_REPOSITORY_ELEMENTS: Final = DSC + "/GetRepositoryElements"
DSC_GET_REPOSITORY_ELEMENTS_RESPONSE: Final = DSC + "/GetRepositoryElementsResponse"
DSC_CANCEL_POST_SCAN_JOB: Final = DSC + "/CancelPostScanJob"
DSC_CANCEL_POST_SCAN_JOB_RESPONSE: Final = DSC + "/CancelPostScanJobResponse"
DSC_GET_POST_SCAN_JOB_ELEMENTS: Final = DSC + "/GetPostScanJobElements"
DSC_GET_POST_SCAN_JOB_ELEMENTS_RESPONSE: Final = DSC + "/GetPostScanJobElementsResponse"
DSC_GET_ACTIVE_JOBS: Final = DSC + "/GetActiveJobs"
DSC_GET_ACTIVE_JOBS_RESPONSE: Final = DSC + "/GetActiveJobsResponse"
DSC_GET_JOB_HISTORY: Final = DSC + "/GetJobHistory"
DSC_GET_JOB_HISTORY_RESPONSE: Final = DSC + "/GetJobHistoryResponse"
DSC_REPOSITORY_ELEMENTS_CHANGE_EVENT: Final = DSC + "/RepositoryElementsChangeEvent"
DSC_REPOSITORY_STATUS_SUMMARY_EVENT: Final = DSC + "/RepositoryStatusSummaryEvent"
DSC_POST_SCAN_JOB_STATUS_EVENT: Final = DSC + "/PostScanJobStatusEvent"
DSC_POST_SCAN_JOB_END_STATE_EVENT: Final = DSC + "/PostScanJobEndStateEvent"
# Filter dialects seen in FilterStatus/Dialect (§4.1 example)
FILTER_EMAIL: Final = "http://schemas.microsoft.com/windows/2007/10/imaging/postscan/filter/email"
FILTER_FILESHARE: Final = "http://schemas.microsoft.com/windows/2007/10/imaging/postscan/filter/fileshare"
FILTER_SHAREPOINT: Final = "http://schemas.microsoft.com/windows/2007/10/imaging/postscan/filter/sharepoint"
FILTER_BASE: Final = "http://schemas.microsoft.com/windows/2007/10/imaging/postscan/filter"

# The prefixes wsdmon writes (any prefix is accepted on input).
PREFIXES: Final[dict[str, str]] = {
    "soap": SOAP,
    "wsa": WSA,
    "wsd": WSD,
    "wse": WSE,
    "wxf": WXF,
    "wsx": WSX,
    "wsdp": WSDP,
    "pnpx": PNPX,
    "wscn": WSCN,
    "xop": XOP,
    "pri": PRI,
    "dsc": DSC,
    "psp": PSP,
    # Filter dialect QNames (dsc:Filter/Dialect in RepositoryConfiguration, §4.1 example: ftr:fileshare)
    "ftr": FILTER_BASE,
    "fsf": FILTER_FILESHARE,
    "emlf": FILTER_EMAIL,
    "spf": FILTER_SHAREPOINT,
}
PREFIX_OF: Final[dict[str, str]] = {uri: prefix for prefix, uri in PREFIXES.items()}
