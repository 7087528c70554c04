"""The words of a shared view (widgets/shared_view.py): each reason a store cannot be shown has its
own text naming the (masked) location, the server's words and what to do; the title and status bar
name the location and the number of sites."""

from __future__ import annotations

from wsdmon.store.pg_view import ViewProblem
from wsdmon.widgets.shared_view import SharedTexts


def test_every_problem_has_its_own_words(qapp) -> None:
    texts = SharedTexts()
    said = {p: texts.problem(p, "postgresql://desk:***@db/wsdmon", "THE-DETAIL") for p in ViewProblem}
    for problem, text in said.items():
        assert "postgresql://desk:***@db/wsdmon" in text, problem
        assert "THE-DETAIL" in text, problem
    assert len(set(said.values())) == len(ViewProblem)  # none falls back to another's words
    assert "~/.pgpass" in said[ViewProblem.LOGIN_REFUSED]
    assert "firewall" in said[ViewProblem.UNREACHABLE]
    assert "pg_schema" in said[ViewProblem.NO_RIGHT]


def test_title_and_status_name_the_location_and_the_sites(qapp) -> None:
    texts = SharedTexts()
    assert "service=wsdmon" in texts.title("service=wsdmon", 3)
    assert "3" in texts.status("service=wsdmon", 3)
    assert "reconnecting" in texts.lost("server closed the connection")


def test_a_shared_views_device_is_watched_by_its_sites_collector_not_unsubscribed(qapp) -> None:
    """The store keeps no subscription state (the collector of the device's site holds it): the tree
    says so instead of a grey "Not subscribed", which a technician would take for a fault."""
    from PySide6.QtCore import Qt

    from wsdmon.bridge import device_row
    from wsdmon.core import DeviceRecord, Role, ServiceInfo
    from wsdmon.models import DeviceTreeModel, SubscriptionState

    record = DeviceRecord(
        "urn:uuid:mfp",
        ("http://10.0.0.5/wsd",),
        friendly_name="MFP",
        services=(ServiceInfo("http://10.0.0.5/s", Role.SCAN_DEVICE),),
    )
    assert (
        device_row(record).subscription is SubscriptionState.UNSUBSCRIBED
    )  # a single PC's, before subscribing
    shared = device_row(record, "floor-3")
    assert shared.subscription is SubscriptionState.AT_SITE
    tree = DeviceTreeModel()
    tree.upsert([shared])
    index = tree.index_of(shared.key)
    tip = tree.data(index, Qt.ItemDataRole.ToolTipRole)
    assert "Watched by its site's collector" in tip
    assert "Not subscribed" not in tip
    assert tree.data(index, Qt.ItemDataRole.DecorationRole) is not None
