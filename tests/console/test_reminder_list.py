"""The vendor's and the reviewer's console home list their reminders (issue 15 §7)."""

from __future__ import annotations

from service.reminders import services
from tests.console.conftest import PASSWORD
from tests.orders.conftest import OrdersWorld
from tests.reminders.test_reminders import ending_world


async def test_the_vendor_and_reviewer_homes_list_what_ends_soon(client, accounts, db, people, new_browser):
    ow = OrdersWorld(client, accounts, db)
    vendor, _ = await ending_world(ow)
    vendor_login = await people("vendor", vendor_credit_code=vendor.credit_code)
    reviewer_login = await people("reviewer", region_code="360104")
    other_login = await people("reviewer", region_code="360102")
    await services.scan(db)

    for login, path in ((vendor_login, "/vendor"), (reviewer_login, "/reviewer")):
        browser = new_browser()
        assert (await browser.sign_in(login, PASSWORD)).status_code == 303
        page = (await browser.get(path)).text
        assert "到期提醒" in page, path
        assert "授课人员 王** 的入校核验" in page and "王小明" not in page
        assert page.index('data-days="1"') < page.index('data-days="7"') < page.index('data-days="30"')
    browser = new_browser()
    await browser.sign_in(other_login, PASSWORD)
    assert "到期提醒" not in (await browser.get("/reviewer")).text
