"""botfront's rasa-webchat 1.0.1 (the widget Rasa's docs point to for the socketio
channel) in a test page, and what it does on the wire.

Getting it: ``bin/test-assets`` puts the npm package's self-contained UMD bundle
(``lib/index.js``, 715 KB: React, socket.io-client 3.x and the CSS inside) at
``tests/browser/widgets/rasa-webchat-1.0.1/index.js``; ``bundle_path()`` runs it
when the file is missing. One ``<script src>`` of it defines ``window.WebChat``;
``WebChat.default(props, element)`` mounts the widget into ``element`` (``null``:
a new ``<div id="rasaWebchatPro">``), after the page's ``load`` event. (The
0.x releases had ``WebChat.default.init({selector, ...})``; 1.0.1 has no
``init`` and no ``selector``.)

Usage in a test::

    from tests.browser import webchat

    url = webchat.serve(static_server, socket_url=rasa_url)   # the page and the bundle
    page.goto(url)
    page.click(webchat.LAUNCHER)
    page.fill(webchat.INPUT, "hi")
    page.click(webchat.SEND)
    page.wait_for_selector(webchat.BOT_MESSAGE)                # e.g. with :has-text("...")

Protocol, as observed in headless Chromium against a logging python-socketio
server and against ``rasa run`` 3.6.21 (socketio channel, ``user_message_evt:
user_uttered``, ``bot_message_evt: bot_uttered``, ``session_persistence: true``):

- Connects on mount (``connectOn: "mount"``), even while closed: Engine.IO 4
  long-polling at ``{socketUrl}{socketPath}?EIO=4&transport=polling``, then an
  upgrade to a websocket. No auth payload, no query parameters.
- On every ``connect`` it emits ``session_request`` with
  ``{"session_id": <stored id or null>}`` (null on first visit; the stored one
  after a reload or reconnect: the id lives in ``sessionStorage`` /
  ``localStorage`` under ``chat_session``, as ``params.storage`` says).
- It expects ``session_confirm``; the payload may be the session id as a
  string (what Rasa sends) or ``{"session_id": ...}``. Until it arrives the
  widget stays hidden (``hideWhenNotConnected``; no session_confirm: no
  launcher at all), and messages wait for it. A confirmed id that differs
  from the stored one replaces it (the shown history stays); later messages
  carry the new id.
- ``initPayload`` is sent once per new session, when the chat is first opened
  (at once with ``embedded: true``): ``user_uttered`` with the same shape as
  a typed message. It is sent even when unset: then without a ``message`` key
  (Rasa handles it as an empty text and answers with its fallback), and a null
  ``initPayload`` arrives as ``message: None`` (Rasa's NLU raises). So
  ``page_html`` sends ``/greet`` unless told otherwise.
- A typed message, or a clicked quick reply/button (its ``payload``, while
  the bubble shows its ``title``), is emitted as ``user_uttered``
  ``{"message": str, "customData": <customData prop>, "session_id": str}``.
  Rasa's channel reads ``message`` and ``session_id`` (and ``metadata``, which
  the widget never sends; ``customData`` is ignored by stock Rasa).
- It renders ``bot_uttered`` payloads by their keys:
  ``{"text"}`` (markdown: bold, links) a text bubble;
  ``{"text", "quick_replies": [{"title", "payload"}]}`` or
  ``{"text", "buttons": [...]}`` a bubble with ``.rw-reply`` choices
  (quick replies disappear once one is chosen or another message comes;
  buttons stay; ``{"type": "web_url", "title", "url"}`` makes a link);
  ``{"attachment": {"type": "image", "payload": {"src"}}}`` an image;
  ``attachment`` video and generic-template carousels too.
  ``metadata`` next to ``text`` is allowed (read for ``customCss`` and
  similar, not shown). Any other extra key, e.g. ``{"text", "custom"}`` or a
  bare ``{"custom": {...}}``, is NOT shown and not reported (only a React
  ``customComponent`` could show it, which a script-tag page cannot give).
  Messages are shown one by one after ``customMessageDelay`` (default 0.8 to
  3 s each; ``page_html`` sets 0).
- Bot messages that arrive while the chat is closed pop up as a tooltip
  (``.rw-tooltip-body``) next to the launcher.
- Rasa's own side (3.6.21): text responses are split at blank lines into
  several ``{"text"}`` messages; with buttons every part carries
  ``quick_replies`` (empty but the last). ``send_custom_json`` calls
  ``sio.emit(bot_message_evt, **json_message)``: a custom response must be
  ``{"data": <payload>}`` (the widget gets the payload, and shows it only if
  it is one of the shapes above); any other key raises TypeError in Rasa.
- BUG (RasaHQ/rasa#13027), seen here: with ``session_persistence: true`` Rasa
  answers into the socket.io room named after the session id, and its
  ``session_request`` handler calls ``sio.enter_room(...)`` without ``await``.
  python-socketio >= 5.10 made that a coroutine (the lock has 5.15.1), so the
  socket never joins the room: Rasa logs "coroutine 'AsyncServer.enter_room'
  was never awaited", predicts ``utter_greet``, and the widget receives
  nothing. It works with ``session_persistence: false`` (replies go to the
  socket's own id, but every reconnect or reload is then a new conversation
  for Rasa) or with python-socketio 5.9.0 (tried; the widget got the replies
  and kept its session over a reload), or with a socketio input channel whose
  ``session_request`` awaits ``enter_room``.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any, Dict, Optional

NAME = "rasa-webchat"
VERSION = "1.0.1"
ROOT = Path(__file__).resolve().parents[2]
BUNDLE = ROOT / "tests" / "browser" / "widgets" / f"{NAME}-{VERSION}" / "index.js"
BUNDLE_ROUTE = f"/{NAME}-{VERSION}.js"
PAGE_ROUTE = "/webchat.html"

# DOM of the widget (classes are prefixed "rw-" since 0.8).
WIDGET = ".rw-widget-container"  # gets .rw-chat-open while open
OPEN_WIDGET = ".rw-widget-container.rw-chat-open"
LAUNCHER = "button.rw-launcher"  # opens and closes the chat
TITLE = ".rw-conversation-container .rw-title"
MESSAGES = "#rw-messages"  # .rw-messages-container
MESSAGE = "#rw-messages .rw-message"
USER_MESSAGE = "#rw-messages .rw-client .rw-message-text"
BOT_MESSAGE = "#rw-messages .rw-response .rw-message-text"  # markdown inside .rw-markdown
BOT_IMAGE = "#rw-messages img.rw-image-frame"  # attachment images
REPLY = "#rw-messages .rw-reply"  # quick reply / button choices; click to send the payload
INPUT = "textarea.rw-new-message"  # name="message"; Enter sends
SEND = "button.rw-send"  # disabled while the input is empty
TOOLTIP = ".rw-tooltip-body"  # bot messages received while closed
STORAGE_KEY = "chat_session"  # JSON: {"session_id", "conversation", "params", ...}


def bundle_path() -> Path:
    """The bundle's path, fetched with ``bin/test-assets`` when missing."""
    if not BUNDLE.is_file():
        result = subprocess.run(
            [str(ROOT / "bin" / "test-assets")], capture_output=True, text=True, timeout=300
        )
        if result.returncode != 0 or not BUNDLE.is_file():
            raise RuntimeError(
                f"{NAME} {VERSION} is missing and bin/test-assets failed "
                f"(exit {result.returncode}):\n{result.stdout}{result.stderr}"
            )
    return BUNDLE


def page_html(
    socket_url: str,
    *,
    socket_path: str = "/socket.io/",
    bundle_src: str = BUNDLE_ROUTE,
    custom_data: Optional[Dict[str, Any]] = None,
    init_payload: Optional[str] = "/greet",
    storage: str = "session",
    embedded: bool = False,
    title: str = "Support",
    message_delay_ms: int = 0,
    props: Optional[Dict[str, Any]] = None,
) -> str:
    """A page with the widget connected to ``socket_url`` (e.g. Rasa's
    ``http://127.0.0.1:5005``; the page is on another port, so another origin:
    it worked with Rasa run with ``--cors '*'``).

    ``bundle_src``: where the page loads the bundle from (serve
    ``bundle_path()`` there, as ``serve`` does). Serve the page from a real
    local server too: a page made up with ``page.route`` or ``set_content`` is
    not on the loopback address space for Chromium, which then refuses its
    requests to 127.0.0.1 ("Permission was denied for this request to access
    the `loopback` address space"). ``init_payload``: what
    the widget sends when the chat is first opened (``None``: a message without
    text). ``props`` adds or overrides widget props (JSON values; a function
    prop needs an edit of the page). The page records what the socket
    receives in ``window.webchatEvents`` (``[[event, payload], ...]``), for
    waits like ``page.wait_for_function("webchatEvents.some(e => e[0] ==
    'session_confirm')")``.
    """
    config: Dict[str, Any] = {
        "socketUrl": socket_url,
        "socketPath": socket_path,
        "customData": custom_data or {},
        "title": title,
        "embedded": embedded,
        "params": {"storage": storage},
        "showFullScreenButton": False,
        # "rules" (a Botfront feature) wrap the widget in a div that stays hidden
        # until session_confirm and let our onSocketEvent hide theirs: off.
        "withRules": False,
    }
    if init_payload is not None:
        # Unset, not null: null would reach Rasa as message None (see above).
        config["initPayload"] = init_payload
    config.update(props or {})
    config_json = json.dumps(config).replace("</", "<\\/")
    bundle_tag = f'<script src="{bundle_src}"></script>'
    return f"""<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Chat test page</title></head>
<body>
<div id="webchat"></div>
{bundle_tag}
<script>
  window.webchatEvents = [];
  (function () {{
    var config = {config_json};
    var record = function (name) {{
      return function (payload) {{ window.webchatEvents.push([name, payload === undefined ? null : payload]); }};
    }};
    config.onSocketEvent = {{
      connect: record("connect"),
      disconnect: record("disconnect"),
      session_confirm: record("session_confirm"),
      bot_uttered: record("bot_uttered")
    }};
    config.customMessageDelay = function () {{ return {int(message_delay_ms)}; }};
    window.WebChat.default(config, document.getElementById("webchat"));
  }})();
</script>
</body>
</html>
"""


def serve(static_server, socket_url: str, **options: Any) -> str:
    """Put the bundle and a ``page_html`` page on ``static_server`` (the
    ``static_server`` fixture); returns the page's URL."""
    static_server.add(BUNDLE_ROUTE, bundle_path().read_bytes())
    return static_server.add(PAGE_ROUTE, page_html(socket_url, bundle_src=BUNDLE_ROUTE, **options))
