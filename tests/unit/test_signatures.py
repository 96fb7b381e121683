"""Standard Webhooks signature check, table-driven."""
from __future__ import annotations

import base64
from datetime import UTC, datetime

import pytest
import standardwebhooks
from hypothesis import given
from hypothesis import strategies as st

from journey.webhooks import signatures
from journey.webhooks.signatures import SignatureError, sign, verify

SECRET = "whsec_" + base64.b64encode(b"0123456789abcdef0123456789abcdef").decode()
OTHER = "whsec_" + base64.b64encode(b"another-secret-another-secret-00").decode()
BODY = b'{"type":"deal.signed"}'
NOW = 1_800_000_000


def good(msg_id: str = "msg_1", ts: int = NOW, body: bytes = BODY, secret: str = SECRET) -> str:
    return sign(secret=secret, msg_id=msg_id, timestamp=ts, body=body)


@pytest.mark.parametrize(("case", "msg_id", "ts", "header", "body", "ok"), [
    ("valid", "msg_1", str(NOW), good(), BODY, True),
    ("valid among several (key rotation)", "msg_1", str(NOW), f"v1,AAAA {good()}", BODY, True),
    ("valid, old secret first", "msg_1", str(NOW), f"{good(secret=OTHER)} {good()}", BODY, True),
    ("4 min 59 s old", "msg_1", str(NOW - 299), good(ts=NOW - 299), BODY, True),
    ("5 min 1 s old", "msg_1", str(NOW - 301), good(ts=NOW - 301), BODY, False),
    ("from the future", "msg_1", str(NOW + 301), good(ts=NOW + 301), BODY, False),
    ("body changed", "msg_1", str(NOW), good(), BODY + b" ", False),
    ("other message id", "msg_2", str(NOW), good(), BODY, False),
    ("wrong secret", "msg_1", str(NOW), good(secret=OTHER), BODY, False),
    ("unknown version", "msg_1", str(NOW), "v2," + good().split(",")[1], BODY, False),
    ("empty header", "msg_1", str(NOW), "", BODY, False),
    ("missing id", None, str(NOW), good(), BODY, False),
    ("timestamp not a number", "msg_1", "yesterday", good(), BODY, False),
    ("garbage signature", "msg_1", str(NOW), "v1,!!!", BODY, False),
])
def test_verify(case, msg_id, ts, header, body, ok) -> None:
    call = lambda: verify(secret=SECRET, msg_id=msg_id, timestamp=ts, signature_header=header, body=body, now=NOW)  # noqa: E731
    if ok:
        call()
    else:
        with pytest.raises(SignatureError):
            call()


def test_signature_matches_the_reference_example() -> None:
    """The example from the Standard Webhooks specification."""
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    body = b'{"test": 2432232314}'
    assert signatures.sign(secret=secret, msg_id="msg_p5jXN8AQM9LWM0D4loKWxJek", timestamp=1614265330,
                           body=body) == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


KEY = bytes(range(200, 232))  # standard base64 has '+' and '/', URL-safe '-' and '_'
STD, URLSAFE = base64.b64encode(KEY).decode(), base64.urlsafe_b64encode(KEY).decode()


@pytest.mark.parametrize("secret", [
    "whsec_" + STD, "whsec_" + STD.rstrip("="), STD, STD.rstrip("="), f"  whsec_{STD}\n",
    "whsec_" + URLSAFE, "whsec_" + URLSAFE.rstrip("="), URLSAFE.rstrip("="),
])
def test_every_secret_form_stands_for_its_bytes(secret) -> None:
    assert KEY in signatures.secret_keys(secret)
    assert signatures.check_secret(secret) is None


@given(key=st.binary(min_size=1, max_size=64), urlsafe=st.booleans(), padded=st.booleans(), prefixed=st.booleans())
def test_secrets_the_reference_library_accepts_verify_what_it_signs(key, urlsafe, padded, prefixed) -> None:
    """Whatever `standardwebhooks` makes of a secret, journey tries that key too (and the bytes meant)."""
    text = (base64.urlsafe_b64encode if urlsafe else base64.b64encode)(key).decode()
    secret = ("whsec_" if prefixed else "") + (text if padded else text.rstrip("="))
    keys = signatures.secret_keys(secret)
    assert key in keys
    try:
        reference = standardwebhooks.Webhook(secret)
    except (ValueError, standardwebhooks.webhooks.EmptyWebhookSecretError):
        return  # the reference library refuses it: a sender using it cannot sign with this secret
    assert reference._whsecret in keys
    header = reference.sign("msg_1", datetime.fromtimestamp(NOW, UTC), BODY)
    verify(secret=secret, msg_id="msg_1", timestamp=str(NOW), signature_header=header, body=BODY, now=NOW)


@pytest.mark.parametrize("secret", ["whsec_not base64!", "whsec_", "", "whsec_A", "whsec_AAAA=AAAA", "whsec_ab cd"])
def test_a_secret_that_is_not_base64_is_refused_with_a_reason(secret) -> None:
    with pytest.raises(ValueError, match="base64"):
        signatures.secret_keys(secret)
    assert signatures.check_secret(secret).startswith("JOURNEY_WEBHOOK_SECRET: ")
