"""The shared success plan in a real browser: the CSM invites a stakeholder, the stakeholder opens the link
in a fresh browser context (no account), validates an objective and finishes a task, and the CSM sees both."""
from __future__ import annotations

import re

import pytest

from tests.e2e.conftest import LAPTOP, SHOTS, shot

pytestmark = pytest.mark.browser
ACCOUNT = "Duff Brewing"  # signed 18 days ago: an assumed objective to validate, customer tasks ahead


def test_the_customer_works_the_shared_plan_and_the_csm_sees_it(open_as, browser, server) -> None:
    csm = open_as("csm@demo.example")
    csm.get_by_role("link", name=ACCOUNT).click()
    csm.wait_for_url(re.compile(r"/accounts/\d+$"))
    account_url = csm.url
    invite = csm.locator("form[action$='/share-links']")
    invite.locator("input[name=name]").fill("Chloé Martin")
    invite.locator("input[name=email]").fill("chloe@exemple.example")
    invite.get_by_role("button", name="Invite to the shared plan").click()
    link = csm.locator("input.copy-link").input_value()
    assert re.search(r"/p/sp_[\w-]+$", link), link

    context = browser.new_context(viewport=LAPTOP)  # the stakeholder: no session, only the link
    try:
        customer = context.new_page()
        customer.set_default_timeout(15_000)
        customer.goto(link)
        assert ACCOUNT in customer.locator("h1").inner_text()
        shot(customer, "shared-plan")
        customer.screenshot(path=str(SHOTS / "shared-plan-top.png"))  # the first screen, as docs/onboarding.md shows it
        objective = customer.locator("div.objective").filter(has=customer.get_by_role("button", name="Validate")).first
        objective_title = objective.locator("h3").inner_text()
        objective.get_by_role("button", name="Validate").click()
        customer.wait_for_url(re.compile(r"done=validated"))
        assert "Validated by chloe@exemple.example" in customer.locator("div.objective", has_text=objective_title
                                                                        ).inner_text()
        task = customer.locator("li.task").filter(has=customer.get_by_role("button", name="Mark done")).first
        task_title = task.locator(".task-title").inner_text()
        task.get_by_role("button", name="Mark done").click()
        customer.wait_for_url(re.compile(r"done=done"))
        assert "Done" in customer.locator("li.task", has_text=task_title).first.inner_text()
    finally:
        context.close()

    csm.goto(account_url)
    activity = csm.locator("#activity").inner_text()
    assert "chloe@exemple.example · objective validated" in activity
    assert "chloe@exemple.example · task updated" in activity
    shot(csm, "account-after-shared-plan")
