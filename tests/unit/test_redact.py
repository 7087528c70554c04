"""The support bundle's Redactor on its own: what is replaced, what is kept readable."""

from __future__ import annotations

from wsdmon.support import Redactor


def test_addresses_are_tokens_the_same_value_the_same_token():
    r = Redactor()
    text = r.text("from 192.168.1.20 and FE80::1 then 192.168.1.20, fe80::1 and aa:bb:cc:dd:ee:ff")
    assert text == "from ip-2 and ip-1 then ip-2, ip-1 and mac-1"  # IPv6 is looked for first
    assert r.text("AA-BB-CC-DD-EE-FF mail bob@example.com") == "mac-1 mail email-1"


def test_times_namespaces_and_plain_words_are_kept():
    r = Redactor()
    r.collect_xml(b'<e xmlns="http://www.w3.org/2003/05/soap-envelope">http://printer.lan/wsd</e>')
    kept = (
        "at 2024-05-01T08:00:00+02:00 took 12:30:45 in Foo::Bar, see http://www.w3.org/2003/05/soap-envelope"
    )
    assert r.text(kept) == kept
    assert r.text("http://printer.lan/wsd or PRINTER") == "http://host-1/wsd or host-1"


def test_users_with_their_domain_and_account_and_escaped_xml():
    r = Redactor()
    r.collect_xml(b"<j><JobOriginatingUserName>CONTOSO\\o&apos;hara</JobOriginatingUserName></j>")
    out, well_formed = r.xml(
        b"<j><JobOriginatingUserName>CONTOSO\\o&#39;hara</JobOriginatingUserName>o'hara</j>"
    )
    assert well_formed
    assert b"hara" not in out
    assert b"CONTOSO" not in out
    assert b"<JobOriginatingUserName>user-1</JobOriginatingUserName>user-1" in out
    text, well_formed = r.xml(b"<broken>CONTOSO\\o&apos;hara")
    assert not well_formed
    assert b"hara" not in text
