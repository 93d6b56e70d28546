"""Real-browser tests: Debian's headless Chromium driven by Playwright's sync API.

Write browser tests as plain ``def`` tests (not ``async def``) and ask for
``page`` (one fresh browser window) or ``new_page`` (a factory: each call opens a
window in a context of its own, with its own cookies and storage, e.g. one for
the customer and one for the agent). ``static_server`` serves pages and files
from 127.0.0.1 on a free port; serve pages from there rather than with
``page.route`` or ``set_content``: Chromium lets only pages that really came
from the loopback address space make requests to 127.0.0.1. Every test in this folder gets the ``browser``
marker (``pytest -m "not browser"`` leaves them out).

Chromium is Debian's /usr/bin/chromium (``bin/system-packages`` installs it),
not a Playwright download (``playwright install`` has no network here).

Why the event-loop juggling below: between two calls, Playwright's sync API
leaves its private event loop marked as *running* in the main thread (it runs
that loop in a greenlet). With a session-wide browser, every later
``async def`` test (pytest-asyncio) and every ``asyncio.run()`` of the suite
would then fail with "Cannot run the event loop while another loop is running".
So the loop is marked running only while a browser test, or a browser fixture,
runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import http.server
import inspect
import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Dict, Iterator, List, Optional, Tuple, Union

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

CHROMIUM = Path(os.environ.get("BOT_TEST_CHROMIUM", "/usr/bin/chromium"))

CHROMIUM_ARGS = [
    "--no-sandbox",  # we run as root; the sandbox refuses to start then
    "--disable-gpu",
    # The machine has no network but the package registries: without these
    # Chromium waits on connections it tries by itself.
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    # Names other than the local ones fail at once instead of waiting on DNS
    # (rasa-webchat's CSS, for one, @imports a font from the internet).
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1",
    # Docker's 64 MB /dev/shm is too small for Chromium.
    "--disable-dev-shm-usage",
]

DEFAULT_TIMEOUT_MS = 10_000

_HERE = Path(__file__).parent


def pytest_collection_modifyitems(items) -> None:
    for item in items:
        if _HERE in Path(str(item.path)).parents:
            item.add_marker(pytest.mark.browser)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.when == "call":
        item.stash[_call_failed] = report.failed


_call_failed = pytest.StashKey[bool]()


class _PlaywrightSession:
    """The sync Playwright instance and the loop it runs in."""

    def __init__(self, playwright, loop: asyncio.AbstractEventLoop) -> None:
        self.playwright = playwright
        self.loop = loop

    @contextlib.contextmanager
    def active(self) -> Iterator[None]:
        """Mark Playwright's loop as running, as its sync calls expect."""
        previous = asyncio._get_running_loop()
        asyncio._set_running_loop(self.loop)
        try:
            yield
        finally:
            asyncio._set_running_loop(previous)


@pytest.fixture(scope="session")
def _playwright() -> Iterator[_PlaywrightSession]:
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(
            f"{CHROMIUM} is missing: the browser tests need Debian's Chromium. "
            "Run bin/system-packages (it installs chromium with apt-get), "
            "or set BOT_TEST_CHROMIUM to a Chromium binary.",
            pytrace=False,
        )
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("The playwright package is missing: run bin/setup.", pytrace=False)

    playwright = sync_playwright().start()
    session = _PlaywrightSession(playwright, asyncio._get_running_loop())
    asyncio._set_running_loop(None)  # idle between tests, see the module docstring
    try:
        yield session
    finally:
        with session.active():
            playwright.stop()


@pytest.fixture(autouse=True)
def _playwright_active(request) -> Iterator[None]:
    if "_playwright" not in request.fixturenames:
        yield
        return
    if inspect.iscoroutinefunction(request.function):
        pytest.fail(
            "Browser tests use Playwright's sync API: write them as `def`, not `async def`.",
            pytrace=False,
        )
    session: _PlaywrightSession = request.getfixturevalue("_playwright")
    with session.active():
        yield


@pytest.fixture(scope="session")
def browser(_playwright: _PlaywrightSession) -> Iterator[Browser]:
    """Headless Chromium, one for the whole test session."""
    with _playwright.active():
        browser = _playwright.playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
    try:
        yield browser
    finally:
        with _playwright.active():
            browser.close()


@pytest.fixture
def new_page(browser: Browser, request) -> Iterator[Callable[..., Page]]:
    """Factory: each call opens a page in a new browser context (own cookies and
    storage). Keyword arguments go to ``browser.new_context``. Console messages
    and page errors are printed when the test fails."""
    contexts = []
    logs: List[str] = []

    def make(**context_options) -> Page:
        context = browser.new_context(**context_options)
        context.set_default_timeout(DEFAULT_TIMEOUT_MS)
        contexts.append(context)
        page = context.new_page()
        number = len(contexts)
        page.on("console", lambda message: logs.append(f"[page {number}] console.{message.type}: {message.text}"))
        page.on("pageerror", lambda error: logs.append(f"[page {number}] page error: {error}"))
        return page

    yield make
    if request.node.stash.get(_call_failed, False) and logs:
        print("Browser console:\n" + "\n".join(logs))
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_page: Callable[..., Page]) -> Page:
    """One fresh browser page."""
    return new_page()


Body = Union[str, bytes]


class StaticServer:
    """Serves fixed responses from 127.0.0.1 on a free port, in a thread."""

    def __init__(self) -> None:
        self.routes: Dict[str, Tuple[bytes, str]] = {}
        self.requests: List[str] = []
        routes, requests = self.routes, self.requests

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                path = self.path.split("?", 1)[0]
                requests.append(path)
                if path not in routes:
                    self.send_error(404)
                    return
                body, content_type = routes[path]
                self.send_response(200)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", "no-store")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args) -> None:
                pass

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def add(self, path: str, body: Body, content_type: Optional[str] = None) -> str:
        """Serve ``body`` at ``path``; returns its URL."""
        if content_type is None:
            content_type = {
                ".js": "application/javascript; charset=utf-8",
                ".css": "text/css; charset=utf-8",
                ".json": "application/json",
                ".txt": "text/plain; charset=utf-8",
            }.get(Path(path).suffix, "text/html; charset=utf-8")
        self.routes[path] = (body.encode() if isinstance(body, str) else body, content_type)
        return self.url(path)

    def url(self, path: str = "/") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def __enter__(self) -> "StaticServer":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def static_server() -> Iterator[StaticServer]:
    with StaticServer() as server:
        yield server
