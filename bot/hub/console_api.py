"""The console's HTTP API (JSON): sign-in, queue, conversations and handoff actions.

Every route under ``/api/`` except sign-in and the API description refuses a
request without a valid, unexpired session. Described in ``openapi.yaml``.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any, Awaitable, Callable, Dict

from aiohttp import web
from sqlalchemy.exc import SQLAlchemyError

from bot.conversations import agents as agent_data
from bot.conversations import handoffs, message_views, store
from bot.conversations.intake import Conflict, ConversationNotFound, MessageRejected, clean_text, utcnow
from bot.conversations.models import PRESENCE, Agent
from bot.db import session_scope
from bot.hub import auth, views
from bot.hub import metrics as hub_metrics
from bot.hub.agent_desk import AgentDesk
from bot.hub.routing import Router
from bot.security import check_password, session_token

logger = logging.getLogger(__name__)

ROUTER = web.AppKey("router", Router)
DESK = web.AppKey("desk", AgentDesk)
THROTTLE = web.AppKey("login_throttle", auth.LoginThrottle)
PUBLIC_PATHS = ("/api/auth/login", "/api/openapi.json")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


@web.middleware
async def errors_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every failure is a JSON error with a clear message, never a stack trace."""
    try:
        return await handler(request)
    except web.HTTPRequestEntityTooLarge:
        return error(413, "the request body is too large")
    except ConversationNotFound:
        return error(404, "no such conversation")
    except Conflict as exc:
        return error(409, str(exc))
    except MessageRejected as exc:
        return error(400, str(exc))
    except (SQLAlchemyError, OSError):
        logger.exception("database unavailable for %s", request.path)
        hub_metrics.error("database")
        return error(503, "the conversation store is unavailable; try again shortly")


@web.middleware
async def auth_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.path.startswith("/api/") and request.path not in PUBLIC_PATHS:
        token = request.cookies.get(auth.COOKIE)
        agent = await auth.agent_for_token(request.app[ROUTER].db_url, token)
        if agent is None:
            return error(401, "sign in first")
        request["agent"] = agent
        request["token"] = token
    return await handler(request)


async def json_body(request: web.Request) -> Dict[str, Any]:
    if request.content_type != "application/json":
        raise web.HTTPUnsupportedMediaType(
            text='{"error": "send JSON (Content-Type: application/json)"}', content_type="application/json"
        )
    try:
        body = await request.json()
    except ValueError:
        raise web.HTTPBadRequest(
            text='{"error": "the body is not valid JSON"}', content_type="application/json"
        ) from None
    if not isinstance(body, dict):
        raise web.HTTPBadRequest(text='{"error": "the body must be a JSON object"}', content_type="application/json")
    return body


def router_of(request: web.Request) -> Router:
    return request.app[ROUTER]


def desk_of(request: web.Request) -> AgentDesk:
    return request.app[DESK]


def agent_of(request: web.Request) -> Agent:
    return request["agent"]


async def login(request: web.Request) -> web.Response:
    body = await json_body(request)
    email, password = body.get("email"), body.get("password")
    if not isinstance(email, str) or not isinstance(password, str):
        return error(400, "email and password are required")
    router = router_of(request)
    throttle = request.app[THROTTLE]
    now = utcnow()
    wait = throttle.retry_after(email, now)
    if wait is not None:
        response = error(429, f"too many failed sign-ins; try again in {max(1, wait // 60)} minute(s)")
        response.headers["Retry-After"] = str(wait)
        return response
    async with session_scope(router.db_url) as session:
        agent = await agent_data.agent_by_email(session, email)
        if agent is None or not check_password(password, agent.password_hash):
            logger.info("failed console sign-in for %r", email[:254])
            throttle.failed(email, now)
            return error(401, "wrong email or password")
        throttle.succeeded(email)
        token = session_token()
        lifetime = dt.timedelta(hours=router.settings.hub.console_session_hours)
        await agent_data.start_session(session, agent, token, now, lifetime)
        await agent_data.purge_expired_sessions(session, now)
        await agent_data.set_presence(session, agent, "online", now)
        view = views.agent_view(agent)
    response = web.json_response({"agent": view})
    response.set_cookie(
        auth.COOKIE,
        token,
        max_age=int(lifetime.total_seconds()),
        httponly=True,
        samesite="Strict",
        path="/",
        secure=router.settings.hub_url.startswith("https://"),
    )
    await broadcast_presence(router)
    return response


async def logout(request: web.Request) -> web.Response:
    router = router_of(request)
    async with session_scope(router.db_url) as session:
        await agent_data.end_session(session, request["token"])
        agent = await agent_data.get_agent(session, agent_of(request).id)
        assert agent is not None  # the request's agent (auth_middleware), and agents are never deleted
        await agent_data.set_presence(session, agent, "offline", utcnow())
    response = web.Response(status=204)
    response.del_cookie(auth.COOKIE, path="/")
    await broadcast_presence(router)
    return response


async def me(request: web.Request) -> web.Response:
    return web.json_response({"agent": views.agent_view(agent_of(request))})


async def set_presence(request: web.Request) -> web.Response:
    body = await json_body(request)
    presence = body.get("presence")
    if presence not in PRESENCE or presence == "offline":
        return error(400, "presence must be 'online' or 'away'")
    router = router_of(request)
    async with session_scope(router.db_url) as session:
        agent = await agent_data.get_agent(session, agent_of(request).id)
        assert agent is not None  # the request's agent (auth_middleware), and agents are never deleted
        await agent_data.set_presence(session, agent, presence, utcnow())
        view = views.agent_view(agent)
    await broadcast_presence(router)
    return web.json_response({"agent": view})


async def broadcast_presence(router: Router) -> None:
    async with session_scope(router.db_url) as session:
        agents = [views.agent_view(a) for a in await agent_data.all_agents(session)]
    await router.delivery.to_agents("presence", {"agents": agents})


async def get_queue(request: web.Request) -> web.Response:
    router = router_of(request)
    async with session_scope(router.db_url) as session:
        return web.json_response({"queue": await router.queue_view(session)})


async def list_conversations(request: web.Request) -> web.Response:
    status = request.query.get("status") or None
    if status is not None and status not in ("bot", "pending", "assigned", "resolved"):
        return error(400, "status must be bot, pending, assigned or resolved")
    mine = request.query.get("mine", "").lower() in ("1", "true", "yes")
    router = router_of(request)
    async with session_scope(router.db_url) as session:
        found = await store.conversations(session, status, agent_of(request).id if mine else None)
        return web.json_response({"conversations": [await views.conversation_view(session, c) for c in found]})


async def _conversation_or_404(session, request: web.Request):
    conversation = await store.get_conversation(session, request.match_info["id"])
    if conversation is None:
        raise ConversationNotFound(request.match_info["id"])
    return conversation


async def get_conversation(request: web.Request) -> web.Response:
    router = router_of(request)
    async with session_scope(router.db_url) as session:
        conversation = await _conversation_or_404(session, request)
        names = await message_views.agent_names(session)
        messages = await store.messages_for(session, conversation.id)
        return web.json_response(
            {
                "conversation": await views.conversation_view(session, conversation),
                "messages": [message_views.message_view(m, names) for m in messages],
                "handoff": views.handoff_view(await handoffs.latest_handoff(session, conversation.id)),
                "notes": [views.note_view(n, names) for n in await store.notes_for(session, conversation.id)],
            }
        )


async def get_customer(request: web.Request) -> web.Response:
    router = router_of(request)
    async with session_scope(router.db_url) as session:
        conversation = await _conversation_or_404(session, request)
        return web.json_response({"customer": await views.customer_panel(session, conversation)})


async def take(request: web.Request) -> web.Response:
    view = await desk_of(request).take(agent_of(request), request.match_info["id"])
    return web.json_response({"conversation": view})


async def post_message(request: web.Request) -> web.Response:
    body = await json_body(request)
    message = await desk_of(request).message(agent_of(request), request.match_info["id"], body.get("text"))
    return web.json_response({"message": message}, status=201)


async def hand_back(request: web.Request) -> web.Response:
    view = await desk_of(request).hand_back(agent_of(request), request.match_info["id"])
    return web.json_response({"conversation": view})


async def resolve(request: web.Request) -> web.Response:
    view = await desk_of(request).resolve(agent_of(request), request.match_info["id"])
    return web.json_response({"conversation": view})


async def add_note(request: web.Request) -> web.Response:
    body = await json_body(request)
    router = router_of(request)
    text = clean_text(body.get("text"), router.settings.hub.max_message_chars)
    agent = agent_of(request)
    async with session_scope(router.db_url) as session:
        conversation = await _conversation_or_404(session, request)
        note = await store.add_note(session, conversation.id, agent.id, text, utcnow())
        view = views.note_view(note, {agent.id: agent.name})
    await router.delivery.to_agents("note", {"conversation_id": conversation.public_id, "note": view})
    return web.json_response({"note": view}, status=201)


async def get_canned_replies(request: web.Request) -> web.Response:
    async with session_scope(router_of(request).db_url) as session:
        replies = await store.canned_replies(session)
        return web.json_response({"canned_replies": [{"id": r.id, "title": r.title, "text": r.text} for r in replies]})


def add_routes(app: web.Application) -> None:
    app.router.add_post("/api/auth/login", login)
    app.router.add_post("/api/auth/logout", logout)
    app.router.add_get("/api/me", me)
    app.router.add_put("/api/me/presence", set_presence)
    app.router.add_get("/api/queue", get_queue)
    app.router.add_get("/api/conversations", list_conversations)
    app.router.add_get("/api/conversations/{id}", get_conversation)
    app.router.add_get("/api/conversations/{id}/customer", get_customer)
    app.router.add_post("/api/conversations/{id}/take", take)
    app.router.add_post("/api/conversations/{id}/messages", post_message)
    app.router.add_post("/api/conversations/{id}/notes", add_note)
    app.router.add_post("/api/conversations/{id}/handback", hand_back)
    app.router.add_post("/api/conversations/{id}/resolve", resolve)
    app.router.add_get("/api/canned-replies", get_canned_replies)
