"""Slack gets CRM text as text: `&`, `<` and `>` are escaped, so a deal name cannot ping or forge a link."""
import json

import httpx

from journey.notify.senders import Outgoing, SlackSender, slack_escape


def sent_text(subject: str, body: str, recipient: str = "am@vendor.example") -> str:
    seen: list[dict] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(json.loads(request.content))
        return httpx.Response(200, text="ok")

    client = httpx.Client(transport=httpx.MockTransport(handler))
    sender = SlackSender("https://hooks.slack.invalid/T/B/x", client=client)
    sender.send(Outgoing(id=1, channel="slack", recipient=recipient, subject=subject, body_text=body, body_html=None,
                         attachments=[], dedupe_key="k"))
    [payload] = seen
    assert set(payload) == {"text", "unfurl_links"}  # no blocks, no other text field to escape
    return payload["text"]


def test_crm_text_cannot_ping_the_channel_or_forge_a_link() -> None:
    text = sent_text("Expansion: <!channel> & Co",
                     "Deal <https://evil.example|Open in Salesforce> at <@U123> is up for renewal\n"
                     "Acme: https://journey.example/accounts/7?tab=reviews&x=1")
    assert "<" not in text and ">" not in text
    assert "&lt;!channel&gt; &amp; Co" in text
    assert "&lt;https://evil.example|Open in Salesforce&gt;" in text and "&lt;@U123&gt;" in text
    # the link we write stays a bare URL, which Slack links by itself (it reads &amp; in it as &)
    assert "https://journey.example/accounts/7?tab=reviews&amp;x=1" in text


def test_the_recipient_is_escaped_too() -> None:
    assert "&lt;!here&gt;" in sent_text("Health alert", "red", recipient="<!here>@vendor.example")


def test_escaping_is_exactly_slacks_three_characters() -> None:
    assert slack_escape("a & b < c > d \"e\" 'f' *g* _h_") == "a &amp; b &lt; c &gt; d \"e\" 'f' *g* _h_"
    assert slack_escape("&amp;") == "&amp;amp;"  # text that looks escaped is still shown as typed
