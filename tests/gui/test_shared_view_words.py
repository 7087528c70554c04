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
