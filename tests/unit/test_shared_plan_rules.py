"""Share links' pure rules, and @mentions: the token is never stored nor logged, links expire, mentions
name active members only."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from journey.portal import domain
from journey.worked.domain import mentions_in, side_of, valid_document_url

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def test_a_token_is_random_and_only_its_digest_is_kept() -> None:
    a, b = domain.new_token(), domain.new_token()
    assert a.token != b.token and a.digest == domain.digest_of(a.token) and a.token not in a.digest
    assert domain.plausible(a.token) and not domain.plausible("jt_" + a.token[3:])


def test_a_link_is_active_until_it_expires_or_is_revoked() -> None:
    expires = NOW + domain.lifetime(None)
    assert expires - NOW == timedelta(days=60)
    assert domain.state_of(expires_at=expires, revoked_at=None, now=NOW) == "active"
    assert domain.state_of(expires_at=expires, revoked_at=None, now=expires) == "expired"
    assert domain.state_of(expires_at=expires, revoked_at=NOW, now=NOW) == "revoked"
    assert domain.lifetime(1000) == timedelta(days=365)


def test_mentions_name_members_by_email_or_the_part_before_the_at() -> None:
    members = ["ana@vendor.example", "bo@vendor.example"]
    assert mentions_in("@bo and @ana@vendor.example, also @ana. and mail@x.com and @nobody", members) == [
        "bo@vendor.example", "ana@vendor.example"]


def test_the_customer_side_and_document_links() -> None:
    assert side_of({"responsible": "champion"}) == "customer" and side_of({"responsible": "se"}) == "vendor"
    assert valid_document_url("https://docs.example/plan") and not valid_document_url("javascript:alert(1)")


def test_a_share_link_s_token_never_reaches_a_log() -> None:
    from journey.logs import mask_secrets

    event = mask_secrets(None, "error", {"event": "request.failed", "path": "/p/sp_Secret-Token_1/tasks/3"})
    assert event["path"] == "/p/***/tasks/3"
