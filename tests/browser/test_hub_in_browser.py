"""The hub's demo-page widget and agent console in headless Chromium, against the
real Rasa server, action server and hub (the ``servers`` fixture).

Each test opens its own windows (``new_page``: separate cookies and storage), so a
customer and an agent are two different browsers as far as the hub can tell.
Conversations are found by the widget's session id (``localStorage.sb_session_id``),
so what earlier tests left in the shared queue does not matter.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser import hub_pages as hub
from tests.browser import webchat
from tests.browser.hub_pages import ANGRY, ASK_FOR_PERSON, BOT_TIMEOUT_MS, LIVE_TIMEOUT_MS

pytestmark = [pytest.mark.e2e, pytest.mark.model]


@pytest.fixture
def escalated(servers, browser):
    """Widget session ids whose conversations may reach people. Whatever of theirs is
    still pending or assigned at the end is resolved, so the shared servers' queue is
    left as it was found (tests/e2e expects to find only its own conversation there)."""
    sessions = []
    yield sessions
    cids = [cid for sid in sessions for cid in hub.conversation_ids(servers.db_url, sid)]
    context = browser.new_context()
    try:
        hub.resolve_leftovers(context, servers.hub_url, cids)
    finally:
        context.close()


def test_journey_customer_and_agent_in_two_windows(servers, escalated, new_page):
    customer, agent = new_page(), new_page()
    customer_dialogs, agent_dialogs = hub.record_dialogs(customer), hub.record_dialogs(agent)

    # The customer verifies on the demo page, then gets angry.
    hub.open_demo(customer, servers.hub_url)
    escalated.append(hub.session_id(customer))
    hub.verify_li_wei(customer)
    before = hub.widget_count(customer)
    hub.widget_says(customer, ANGRY, wait_for="frustrating")
    hub.wait_for_widget_message(customer, "in the queue", sender="system", after=before, timeout=LIVE_TIMEOUT_MS)
    cid = hub.conversation_id(servers.db_url, hub.session_id(customer))

    # The agent signs in and finds it in the queue: anger, Li Wei.
    hub.sign_in(agent, servers.hub_url, "alex")
    item = hub.queue_item(agent, cid)
    expect(item).to_be_visible(timeout=LIVE_TIMEOUT_MS)
    expect(item.locator(".reason")).to_have_text("Anger")
    expect(item.locator(".who")).to_have_text("Li Wei \u00b7 AC-100005")
    expect(item.locator(".preview")).to_have_text(ANGRY)

    hub.open_conversation(agent, cid)
    expect(agent.locator("#conv-title")).to_have_text("Li Wei")
    expect(agent.locator("#handoff-summary")).to_be_visible()
    expect(agent.locator("#summary-reason")).to_contain_text("Anger")
    expect(agent.locator("#summary-identity")).to_have_text("Verified: Li Wei \u00b7 AC-100005")
    expect(agent.locator("#sentiment-trail li").last).to_contain_text("negative")
    panel = agent.locator("#customer-panel")
    expect(panel.locator(".cust-name")).to_have_text("Li Wei")
    expect(panel).to_contain_text("AC-100005")
    expect(panel).to_contain_text("75 days overdue")
    # The whole conversation so far, customer and bot.
    expect(agent.locator("#transcript .msg.from-customer .msg-text").filter(has_text="AC-100005")).to_have_count(1)
    expect(agent.locator("#transcript .msg.from-customer .msg-text").last).to_have_text(ANGRY)
    expect(agent.locator("#take")).to_be_visible()
    expect(agent.locator("#reply")).to_be_disabled()

    # Take it and answer; the customer sees who answers.
    hub.take(agent, "Alex Morgan")
    hub.wait_for_widget_message(customer, "Alex Morgan from our team has joined the chat.", sender="system",
                                timeout=LIVE_TIMEOUT_MS)
    reply = "Hi Li, I'm Alex. I'm sorry about this, let me look."
    hub.send_reply(agent, reply)
    from_agent = customer.locator(".sb-msg.sb-from-agent").last
    expect(from_agent.locator(".sb-bubble")).to_have_text(reply, timeout=LIVE_TIMEOUT_MS)
    expect(from_agent.locator(".sb-label")).to_contain_text("Alex Morgan")

    # The customer's next message reaches the agent live; the bot stays silent meanwhile.
    bot_before = len(hub.widget_texts(customer, "bot"))
    hub.widget_says(customer, "thank you Alex")
    expect(agent.locator("#transcript .msg.from-customer .msg-text").last).to_have_text(
        "thank you Alex", timeout=LIVE_TIMEOUT_MS)

    # A private note: agents only.
    note = "Private: offered a payment plan, check again on Friday"
    agent.fill("#note-text", note)
    agent.click("#add-note")
    expect(agent.locator("#notes .note .note-text")).to_have_text([note])
    expect(agent.locator("#notes .note .who")).to_have_text(["Alex Morgan"])

    # Hand back: the bot answers again and still knows the customer.
    agent.click("#handback")
    expect(agent.locator("#flash")).to_have_text("Handed back to the bot.")
    hub.wait_for_widget_message(customer, "back with our virtual assistant", sender="system", timeout=LIVE_TIMEOUT_MS)
    assert len(hub.widget_texts(customer, "bot")) == bot_before
    answer = hub.widget_says(customer, "why did I get a reminder letter?", wait_for="final reminder")
    assert "75 days overdue" in answer

    # The note never reached the customer, not live and not in the history after a reload.
    expect(customer.locator("#sb-messages")).not_to_contain_text(note)
    customer.reload()
    expect(customer.locator(".sb-msg.sb-from-bot").filter(has_text="final reminder")).to_have_count(1)
    expect(customer.locator("#sb-messages")).not_to_contain_text(note)
    assert customer_dialogs == [] and agent_dialogs == []


def test_resolve_and_rating(servers, escalated, new_page):
    customer, agent = new_page(), new_page()
    hub.open_demo(customer, servers.hub_url)
    escalated.append(hub.session_id(customer))
    hub.widget_says(customer, ASK_FOR_PERSON, wait_for="in the queue", sender="system")
    cid = hub.conversation_id(servers.db_url, hub.session_id(customer))

    hub.sign_in(agent, servers.hub_url, "sam")
    hub.open_conversation(agent, cid)
    hub.take(agent, "Sam Rivera")
    agent.click("#resolve")
    expect(agent.locator("#flash")).to_have_text("Resolved. The customer is asked for a rating.")
    expect(hub.queue_item(agent, cid)).to_have_count(0)

    question = customer.locator(".sb-msg.sb-from-system").filter(has_text="How would you rate")
    expect(question).to_be_visible(timeout=LIVE_TIMEOUT_MS)
    buttons = question.locator(".sb-quick-reply")
    expect(buttons).to_have_text(["1", "2", "3", "4", "5"])
    for button in buttons.all():
        expect(button).to_be_enabled()
    buttons.nth(3).click()
    expect(customer.locator(".sb-msg.sb-from-customer .sb-bubble").last).to_have_text("4")
    hub.wait_for_widget_message(customer, "Thank you for your rating", sender="system", timeout=LIVE_TIMEOUT_MS)
    for button in buttons.all():  # answered: no second rating
        expect(button).to_be_disabled()

    detail = hub.api(agent, "GET", f"{servers.hub_url}/api/conversations/{cid}")
    assert detail["conversation"]["status"] == "resolved"
    assert detail["conversation"]["csat"] == 4
    assert detail["conversation"]["assigned_agent"]["name"] == "Sam Rivera"


XSS_IMG = '<img src=x onerror="window.__xss=1">'
XSS_SCRIPT = "<script>window.__xss=2</script>"
AGENT_MARKUP = '<b>bold?</b> <img src=x onerror="window.__xss=3"> <script>window.__xss=4</script>'


def _no_markup_ran(page) -> None:
    expect(page.locator("img[src=x]")).to_have_count(0)
    expect(page.locator("b", has_text="bold?")).to_have_count(0)
    assert page.evaluate("() => typeof window.__xss") == "undefined"


def test_markup_in_messages_is_shown_as_text(servers, escalated, new_page):
    customer, agent = new_page(), new_page()
    customer_dialogs, agent_dialogs = hub.record_dialogs(customer), hub.record_dialogs(agent)
    hub.open_demo(customer, servers.hub_url)
    escalated.append(hub.session_id(customer))
    hub.widget_says(customer, ASK_FOR_PERSON, wait_for="in the queue", sender="system")
    cid = hub.conversation_id(servers.db_url, hub.session_id(customer))
    hub.widget_says(customer, XSS_IMG)
    hub.widget_says(customer, XSS_SCRIPT)
    assert hub.widget_texts(customer, "customer")[-2:] == [XSS_IMG, XSS_SCRIPT]

    hub.sign_in(agent, servers.hub_url, "alex")
    expect(hub.queue_item(agent, cid).locator(".preview")).to_have_text(XSS_SCRIPT, timeout=LIVE_TIMEOUT_MS)
    hub.open_conversation(agent, cid)
    texts = agent.locator("#transcript .msg.from-customer .msg-text")
    expect(texts).to_have_count(3)
    assert texts.all_text_contents() == [ASK_FOR_PERSON, XSS_IMG, XSS_SCRIPT]

    hub.take(agent, "Alex Morgan")
    hub.send_reply(agent, AGENT_MARKUP)
    assert agent.locator("#transcript .msg.from-agent .msg-text").last.text_content() == AGENT_MARKUP
    bubble = customer.locator(".sb-msg.sb-from-agent .sb-bubble").last
    expect(bubble).to_be_visible(timeout=LIVE_TIMEOUT_MS)
    assert bubble.text_content() == AGENT_MARKUP

    # The same after a reload, when the widget renders the history.
    customer.reload()
    expect(customer.locator(".sb-msg.sb-from-agent .sb-bubble")).to_have_count(1)
    assert customer.locator(".sb-msg.sb-from-agent .sb-bubble").text_content() == AGENT_MARKUP
    assert hub.widget_texts(customer, "customer")[-2:] == [XSS_IMG, XSS_SCRIPT]

    for page in (customer, agent):
        _no_markup_ran(page)
    assert customer_dialogs == [] and agent_dialogs == []


def test_widget_session_survives_a_reload(servers, new_page):
    customer = new_page()
    hub.open_demo(customer, servers.hub_url)
    first_session = hub.session_id(customer)
    asked = hub.widget_says(customer, "what do I owe", wait_for="account number")
    shown = customer.locator(".sb-msg").all_text_contents()

    customer.reload()
    expect(customer.locator("#sb-panel")).to_be_visible()
    # The history comes back from the hub, in order, and the session is the same.
    expect(customer.locator(".sb-msg")).to_have_text(shown, timeout=LIVE_TIMEOUT_MS)
    assert hub.session_id(customer) == first_session
    expect(customer.locator(".sb-msg.sb-from-bot").last).to_have_text(asked)

    # The conversation continues where it was: the bot still waits for the account number.
    hub.widget_says(customer, "AC-100005", wait_for="ZIP code")
    hub.widget_says(customer, "98101", wait_for="verified")
    assert len(hub.conversation_ids(servers.db_url, first_session)) == 1  # one conversation throughout


def test_rasa_webchat_against_the_hub(servers, escalated, new_page, static_server):
    page, agent = new_page(), new_page()
    url = webchat.serve(static_server, socket_url=servers.hub_url)
    page.goto(url)
    page.click(webchat.LAUNCHER)
    expect(page.locator(webchat.OPEN_WIDGET)).to_be_visible()
    greeting = page.locator(webchat.BOT_MESSAGE).first
    expect(greeting).to_be_visible(timeout=BOT_TIMEOUT_MS)  # the answer to initPayload /greet
    sid = page.evaluate(f"() => JSON.parse(sessionStorage.getItem('{webchat.STORAGE_KEY}')).session_id")
    assert sid
    escalated.append(sid)

    bot_before = page.locator(webchat.BOT_MESSAGE).count()
    page.fill(webchat.INPUT, "hi")
    page.press(webchat.INPUT, "Enter")
    expect(page.locator(webchat.USER_MESSAGE).last).to_have_text("hi")
    expect(page.locator(webchat.BOT_MESSAGE).nth(bot_before)).to_be_visible(timeout=BOT_TIMEOUT_MS)

    # Escalated; an agent takes it through the API and answers: rasa-webchat shows it.
    page.fill(webchat.INPUT, ASK_FOR_PERSON)
    page.press(webchat.INPUT, "Enter")
    expect(page.locator(webchat.BOT_MESSAGE).filter(has_text="in the queue")).to_have_count(1, timeout=BOT_TIMEOUT_MS)
    cid = hub.conversation_id(servers.db_url, sid)
    base = f"{servers.hub_url}/api/conversations/{cid}"
    hub.api_sign_in(agent, servers.hub_url, "sam")
    hub.api(agent, "POST", base + "/take")
    expect(page.locator(webchat.BOT_MESSAGE).filter(has_text="Sam Rivera from our team has joined the chat.")) \
        .to_have_count(1, timeout=LIVE_TIMEOUT_MS)
    hub.api(agent, "POST", base + "/messages", {"text": "Hello, Sam here. How can I help?"}, status=201)
    expect(page.locator(webchat.BOT_MESSAGE).filter(has_text="Hello, Sam here. How can I help?")) \
        .to_have_count(1, timeout=LIVE_TIMEOUT_MS)

    # A reload asks for the same session: the chat shown is kept and the conversation goes on.
    page.reload()
    page.wait_for_function("() => webchatEvents.some(e => e[0] === 'session_confirm')", timeout=LIVE_TIMEOUT_MS)
    assert page.evaluate("() => webchatEvents.find(e => e[0] === 'session_confirm')[1]") == sid
    if not page.locator(webchat.OPEN_WIDGET).count():
        page.click(webchat.LAUNCHER)
    expect(page.locator(webchat.BOT_MESSAGE).filter(has_text="Hello, Sam here.")).to_have_count(1)
    hub.api(agent, "POST", base + "/messages", {"text": "Still here after your reload."}, status=201)
    expect(page.locator(webchat.BOT_MESSAGE).filter(has_text="Still here after your reload.")) \
        .to_have_count(1, timeout=LIVE_TIMEOUT_MS)
    page.fill(webchat.INPUT, "great, thanks")
    page.press(webchat.INPUT, "Enter")
    # The agent's console (signed in by the API call's cookie) shows it in the same conversation.
    agent.goto(f"{servers.hub_url}/console#c={cid}")
    expect(agent.locator(f'#mine .mine-item[data-conversation-id="{cid}"]')).to_be_visible()
    expect(agent.locator("#transcript .msg.from-agent .msg-text")).to_have_text(
        ["Hello, Sam here. How can I help?", "Still here after your reload."])
    expect(agent.locator("#transcript .msg.from-customer .msg-text").last).to_have_text(
        "great, thanks", timeout=LIVE_TIMEOUT_MS)
    assert hub.conversation_ids(servers.db_url, sid) == [cid]


def test_console_keeps_live_messages_when_a_slow_reload_lands(servers, escalated, new_page):
    """Taking a conversation reloads it (twice: the API answer and the socket's
    `conversation` event). A reload answered from the database *before* the agent's
    reply and the customer's next message must not wipe them from the transcript
    (it did: a fast reply right after Take vanished from the agent's view)."""
    customer, agent = new_page(), new_page()
    hub.open_demo(customer, servers.hub_url)
    escalated.append(hub.session_id(customer))
    hub.widget_says(customer, ASK_FOR_PERSON, wait_for="in the queue", sender="system")
    cid = hub.conversation_id(servers.db_url, hub.session_id(customer))
    hub.sign_in(agent, servers.hub_url, "alex")
    hub.open_conversation(agent, cid)

    # Hold the transcript reloads that Take starts; their data is read now, before the reply.
    held, holding = [], [True]

    def hold(route) -> None:
        if holding[0]:
            held.append((route, route.fetch()))
        else:
            route.continue_()

    pattern = f"{servers.hub_url}/api/conversations/{cid}"
    agent.route(pattern, hold)
    hub.take(agent, "Alex Morgan")
    expect(agent.locator("#take")).to_be_hidden()
    hub.send_reply(agent, "Hello, Alex here.")
    hub.widget_says(customer, "hello Alex")
    expect(agent.locator("#transcript .msg.from-customer .msg-text").last).to_have_text(
        "hello Alex", timeout=LIVE_TIMEOUT_MS)
    assert held, "Take did not reload the conversation"

    # Now the stale answers arrive.
    agent.evaluate("() => document.querySelectorAll('#transcript .msg').forEach(m => m.dataset.before = '1')")
    holding[0] = False
    for route, response in held:
        route.fulfill(response=response)
    expect(agent.locator("#transcript .msg[data-before]")).to_have_count(0)  # re-rendered
    texts = agent.locator("#transcript .msg .msg-text").all_text_contents()
    assert texts[-3:] == ["Alex Morgan from our team has joined the chat.", "Hello, Alex here.", "hello Alex"]


def test_console_sign_in_and_take_conflict(servers, escalated, new_page):
    customer, alex, sam = new_page(), new_page(), new_page()
    hub.open_demo(customer, servers.hub_url)
    escalated.append(hub.session_id(customer))
    hub.widget_says(customer, ASK_FOR_PERSON, wait_for="in the queue", sender="system")
    cid = hub.conversation_id(servers.db_url, hub.session_id(customer))

    # Signed out: the sign-in form only; a wrong password is refused.
    alex.goto(servers.hub_url + "/console")
    expect(alex.locator("#login-view")).to_be_visible()
    expect(alex.locator("#app")).to_be_hidden()
    expect(alex.locator("#login-error")).to_be_hidden()
    alex.fill("#login-email", "alex@northwind.example")
    alex.fill("#login-password", "not the password")
    alex.click("#login-submit")
    expect(alex.locator("#login-error")).to_be_visible()
    expect(alex.locator("#login-error")).to_contain_text("wrong email or password")
    expect(alex.locator("#app")).to_be_hidden()
    assert hub.api(alex, "GET", servers.hub_url + "/api/me", status=401) == {"error": "sign in first"}

    hub.sign_in(alex, servers.hub_url, "alex")
    expect(alex.locator("#login-error")).to_be_hidden()
    hub.sign_in(sam, servers.hub_url, "sam")
    for page in (alex, sam):
        hub.open_conversation(page, cid)
        expect(page.locator("#take")).to_be_visible()

    # Both press Take at (nearly) the same moment: one gets it, the other is told who has it.
    alex.locator("#take").dispatch_event("click")
    sam.locator("#take").dispatch_event("click")
    flashes = {}
    for page, name in ((alex, "Alex Morgan"), (sam, "Sam Rivera")):
        expect(page.locator("#flash")).to_be_visible()
        flashes[name] = page.locator("#flash").text_content()
    winners = [name for name, text in flashes.items() if text == "You took this conversation."]
    assert len(winners) == 1, flashes
    (winner,) = winners
    (loser,) = set(flashes) - {winner}
    assert flashes[loser] == f"already taken by {winner}", flashes

    losing_page = sam if loser == "Sam Rivera" else alex
    winning_page = alex if losing_page is sam else sam
    expect(losing_page.locator("#take")).to_be_hidden()
    expect(losing_page.locator("#reply")).to_be_disabled()
    expect(losing_page.locator("#reply-hint")).to_have_text(f"Assigned to {winner}.")
    expect(winning_page.locator("#reply")).to_be_enabled()
    detail = hub.api(losing_page, "GET", f"{servers.hub_url}/api/conversations/{cid}")
    assert detail["conversation"]["assigned_agent"]["name"] == winner
    hub.wait_for_widget_message(customer, f"{winner} from our team has joined the chat.", sender="system",
                                timeout=LIVE_TIMEOUT_MS)
    assert len(customer.locator(".sb-msg.sb-from-system").filter(has_text="from our team has joined").all()) == 1

    # A note by the one who has it shows at once for the colleague with it open (once each).
    note = f"{winner} is on it"
    winning_page.fill("#note-text", note)
    winning_page.click("#add-note")
    for page in (winning_page, losing_page):
        expect(page.locator("#notes .note .note-text")).to_have_text([note], timeout=LIVE_TIMEOUT_MS)
    expect(customer.locator("#sb-messages")).not_to_contain_text(note)
