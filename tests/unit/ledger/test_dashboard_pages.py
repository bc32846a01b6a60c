"""The ledger's two pages carry the shared script (static/pages.js) written in, once each."""

from __future__ import annotations

import pytest

from lifecycle.ledger.dashboard import page_html, portfolio_html


@pytest.mark.parametrize("page", [page_html, portfolio_html], ids=["costs", "portfolio"])
def test_each_page_has_the_shared_helpers_once_and_no_placeholder(page: object) -> None:
    assert callable(page)
    html = page().decode()
    assert "/* pages.js */" not in html
    for helper in ("const usd = ", "function setTotal(", "function cell("):
        assert html.count(helper) == 1, helper
    assert html.index("function cell(") < html.index("</script>", html.index("function cell("))
