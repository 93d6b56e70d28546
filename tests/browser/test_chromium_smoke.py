"""The browser test set-up works: headless Chromium loads a page from a local
server, runs its script, takes a click and shows the result; two windows keep
their storage apart; and asyncio is usable again after browser tests."""

import asyncio

PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>Smoke</title></head>
<body>
  <button id="go">Ask the server</button>
  <p id="out">nothing yet</p>
  <script>
    document.getElementById("go").addEventListener("click", async () => {
      const response = await fetch("/greeting.txt");
      const text = await response.text();
      document.getElementById("out").textContent = text + " (clicks: " + (++window.clicks) + ")";
    });
    window.clicks = 0;
  </script>
</body></html>
"""

STORAGE_PAGE = """<!doctype html>
<p id="seen"></p>
<script>
  document.getElementById("seen").textContent = localStorage.getItem("who") || "nobody";
  localStorage.setItem("who", new URLSearchParams(location.search).get("who"));
</script>
"""


def test_click_fetches_from_the_local_server(page, static_server):
    url = static_server.add("/", PAGE)
    static_server.add("/greeting.txt", "Hello from the test server")

    page.goto(url)
    assert page.text_content("#out") == "nothing yet"
    page.click("#go")
    page.wait_for_function("document.getElementById('out').textContent !== 'nothing yet'")

    assert page.text_content("#out") == "Hello from the test server (clicks: 1)"
    assert [p for p in static_server.requests if p != "/favicon.ico"] == ["/", "/greeting.txt"]


def test_two_windows_have_separate_storage(new_page, static_server):
    url = static_server.add("/storage", STORAGE_PAGE)
    customer, agent = new_page(), new_page()

    customer.goto(url + "?who=customer")
    agent.goto(url + "?who=agent")
    assert customer.text_content("#seen") == "nobody"
    assert agent.text_content("#seen") == "nobody"

    customer.reload()  # the customer's window remembers only the customer
    assert customer.text_content("#seen") == "customer"


async def test_asyncio_works_after_browser_tests():
    """Playwright's sync API marks its loop as running between calls; the
    fixtures undo that after each browser test, or this would fail with
    "Runner.run() cannot be called from a running event loop"."""
    await asyncio.sleep(0)
    assert asyncio.get_running_loop().is_running()


def test_asyncio_run_works_after_browser_tests():
    async def answer():
        return 42

    assert asyncio.run(answer()) == 42
