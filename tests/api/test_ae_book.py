"""The AE's book lists the draft packets they must complete (and nobody else's)."""
from __future__ import annotations

import pytest

from tests.builders import deal_signed, drain, member_with_password, post_event, sign_in

pytestmark = [pytest.mark.usefixtures("db_url"), pytest.mark.clock("2026-11-23T09:00:00Z")]


def test_the_ae_sees_the_packets_they_must_complete(client) -> None:
    for email, role in (("ae@vendor.example", "ae"), ("other.ae@vendor.example", "ae"), ("csm@vendor.example", "csm")):
        member_with_password(email, role)
    post_event(client, deal_signed("D-1", "C-1", objectives=[], stakeholders=[]))  # incomplete: a draft
    post_event(client, deal_signed("D-2", "C-2", account={"name": "Complete Co"}))  # complete: awaiting the pair
    assert drain() == ["processed", "processed"]
    sign_in(client, "ae@vendor.example")
    book = client.get("/").text
    assert "Packets to complete" in book
    section = book[book.index('id="packets-to-complete"'):]
    section = section[:section.index("</section>")]
    assert "% complete · draft" in section and "Complete Co" not in section
    for other in ("other.ae@vendor.example", "csm@vendor.example"):
        client.cookies.clear()
        sign_in(client, other)
        assert "Packets to complete" not in client.get("/").text
