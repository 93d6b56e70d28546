"""Helpers for browser tests against the real hub (``servers`` fixture): the demo
page's widget (customer side), the agent console, the console API from a signed-in
browser context, and finding a widget session's conversation in the database.

Waits use Playwright's auto-waiting (``expect``, ``wait_for_function``), never sleeps.
"""

from __future__ import annotations

import sqlite3
from typing import Any, Dict, List, Optional

from playwright.sync_api import Page, expect

from tests.servers import AGENT_PASSWORD

BOT_TIMEOUT_MS = 30_000  # a round trip through Rasa and the action server
LIVE_TIMEOUT_MS = 10_000  # a socket event from the hub

AGENTS = {
    "alex": ("alex@northwind.example", "Alex Morgan"),
    "sam": ("sam@northwind.example", "Sam Rivera"),
}

ANGRY = "this is absolutely disgraceful, the worst service I have ever had, I am furious"
ASK_FOR_PERSON = "I want to talk to a real person"

# Widget DOM (bot/hub/static/widget.js)
W_MESSAGE = "#sb-messages .sb-msg"
W_INPUT = "#sb-input"
W_SEND = "#sb-send"


def record_dialogs(page: Page) -> List[str]:
    """Every alert/confirm/prompt the page opens (dismissed at once)."""
    dialogs: List[str] = []

    def on_dialog(dialog) -> None:
        dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    page.on("dialog", on_dialog)
    return dialogs


# ---- the customer: the demo page's widget ----------------------------------------------------

def open_demo(page: Page, hub_url: str) -> None:
    """The demo page, its widget open and confirmed by the hub (session id stored)."""
    page.goto(hub_url + "/")
    expect(page.locator("#sb-panel")).to_be_visible()
    page.wait_for_function("() => !!localStorage.getItem('sb_session_id')", timeout=LIVE_TIMEOUT_MS)


def session_id(page: Page) -> str:
    return page.evaluate("() => JSON.parse(localStorage.getItem('sb_session_id'))")


def widget_says(page: Page, text: str, *, wait_for: Optional[str] = None, sender: str = "bot",
                timeout: float = BOT_TIMEOUT_MS) -> Optional[str]:
    """Types ``text`` into the widget and sends it; waits until the hub stored it and,
    with ``wait_for``, until a message from ``sender`` containing it arrives *after* it.
    Returns that message's text."""
    before = page.locator(W_MESSAGE).count()
    page.fill(W_INPUT, text)
    page.click(W_SEND)
    # The bubble is added at once and loses .sb-pending when the hub acknowledges it.
    expect(page.locator(f"{W_MESSAGE}.sb-from-customer .sb-bubble").last).to_have_text(text)
    expect(page.locator(f"{W_MESSAGE}.sb-pending")).to_have_count(0, timeout=LIVE_TIMEOUT_MS)
    if wait_for is None:
        return None
    return wait_for_widget_message(page, wait_for, sender=sender, after=before, timeout=timeout)


def wait_for_widget_message(page: Page, text: str, *, sender: str = "bot", after: int = 0,
                            timeout: float = BOT_TIMEOUT_MS) -> str:
    """Waits for a message row from ``sender`` whose text contains ``text``, at position
    ``after`` or later; returns the row's text."""
    handle = page.wait_for_function(
        """([after, want, sender]) => {
            const rows = Array.from(document.querySelectorAll('#sb-messages .sb-msg')).slice(after);
            const row = rows.find(r => r.classList.contains('sb-from-' + sender) && r.textContent.includes(want));
            return row ? row.textContent : null;
        }""",
        arg=[after, text, sender],
        timeout=timeout,
    )
    return handle.json_value()


def widget_count(page: Page) -> int:
    return page.locator(W_MESSAGE).count()


def widget_texts(page: Page, sender: str) -> List[str]:
    return page.locator(f"{W_MESSAGE}.sb-from-{sender} .sb-bubble").all_text_contents()


def verify_li_wei(page: Page) -> None:
    widget_says(page, "what do I owe", wait_for="account number")
    widget_says(page, "AC-100005", wait_for="ZIP code")
    widget_says(page, "98101", wait_for="verified")


# ---- the agent: the console ------------------------------------------------------------------

def sign_in(page: Page, hub_url: str, who: str, password: str = AGENT_PASSWORD) -> None:
    email, name = AGENTS[who]
    page.goto(hub_url + "/console")
    expect(page.locator("#login-view")).to_be_visible()
    page.fill("#login-email", email)
    page.fill("#login-password", password)
    page.click("#login-submit")
    expect(page.locator("#app")).to_be_visible()
    expect(page.locator("#agent-name")).to_have_text(name)
    expect(page.locator("#presence")).to_have_value("online")


def queue_item(page: Page, conversation_id: str):
    return page.locator(f'#queue .queue-item[data-conversation-id="{conversation_id}"]')


def open_conversation(page: Page, conversation_id: str) -> None:
    """Clicks the conversation in the queue and waits until its transcript is shown."""
    item = queue_item(page, conversation_id)
    expect(item).to_be_visible(timeout=LIVE_TIMEOUT_MS)
    item.locator("button").click()
    expect(page.locator("#conv-view")).to_be_visible()
    expect(page.locator(f'#queue .queue-item.selected[data-conversation-id="{conversation_id}"]')).to_be_visible()
    expect(page.locator("#transcript .msg").first).to_be_visible()


def take(page: Page, name: str) -> None:
    page.click("#take")
    expect(page.locator("#flash")).to_have_text("You took this conversation.")
    expect(page.locator("#transcript .msg.from-system", has_text=f"{name} from our team has joined the chat.")) \
        .to_be_visible(timeout=LIVE_TIMEOUT_MS)
    expect(page.locator("#reply")).to_be_enabled()


def send_reply(page: Page, text: str) -> None:
    page.fill("#reply", text)
    page.click("#send-reply")
    expect(page.locator("#transcript .msg.from-agent .msg-text").filter(has_text=text).last).to_be_visible()
    expect(page.locator("#reply")).to_have_value("")


# ---- the console API, from a signed-in browser context ---------------------------------------

def api(page: Page, method: str, url: str, data: Optional[Dict[str, Any]] = None, status: int = 200) -> Any:
    """A console API call with the page's cookies (``page.request`` shares the context's)."""
    response = page.request.fetch(url, method=method, data=data)
    assert response.status == status, f"{method} {url}: {response.status} {response.text()}"
    return response.json() if response.status != 204 else None


def api_sign_in(page: Page, hub_url: str, who: str) -> Dict[str, Any]:
    email, _ = AGENTS[who]
    return api(page, "POST", hub_url + "/api/auth/login", {"email": email, "password": AGENT_PASSWORD})["agent"]


# ---- the database (read only) ----------------------------------------------------------------

def _sqlite_path(db_url: str) -> str:
    prefix = "sqlite+aiosqlite:///"
    assert db_url.startswith(prefix), db_url
    return db_url[len(prefix):]


def conversation_ids(db_url: str, session_key: str) -> List[str]:
    """Public ids of a widget session's conversations, oldest first. Plain sqlite3 in
    read-only mode: no engine shared with the servers' event loop."""
    connection = sqlite3.connect(f"file:{_sqlite_path(db_url)}?mode=ro", uri=True, timeout=15)
    try:
        rows = connection.execute(
            "SELECT public_id FROM conversations WHERE channel = 'web' AND session_key = ? ORDER BY id",
            (session_key,),
        ).fetchall()
    finally:
        connection.close()
    return [row[0] for row in rows]


def conversation_id(db_url: str, session_key: str) -> str:
    ids = conversation_ids(db_url, session_key)
    assert ids, f"no conversation for widget session {session_key}"
    return ids[-1]


def resolve_leftovers(context, hub_url: str, conversation_ids: List[str]) -> None:
    """Resolves those of the conversations still pending or assigned (signing in as
    each demo agent in turn: an assigned one only its assignee may resolve)."""
    request = context.request
    for email, _ in AGENTS.values():
        response = request.post(hub_url + "/api/auth/login", data={"email": email, "password": AGENT_PASSWORD})
        assert response.ok, response.text()
        for cid in conversation_ids:
            conversation = request.get(f"{hub_url}/api/conversations/{cid}").json()["conversation"]
            assigned = conversation["assigned_agent"]
            if conversation["status"] == "pending" or (
                    conversation["status"] == "assigned" and assigned and assigned["email"] == email):
                response = request.post(f"{hub_url}/api/conversations/{cid}/resolve")
                assert response.ok, response.text()
