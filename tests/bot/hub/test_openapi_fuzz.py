"""schemathesis (a real HTTP client, from .venv-tools; bin/test-tools installs it)
fuzzes the hub's API from its own OpenAPI description, signed in as an agent, for a
bounded number of examples: no server error, every status code and body as
described, and every route that needs a session refuses a request without one
(schemathesis's ``ignored_auth`` check)."""

from __future__ import annotations

import asyncio

from bot.config import PROJECT_ROOT
from tests.bot.hub.conftest import PASSWORD

SCHEMATHESIS = PROJECT_ROOT / ".venv-tools" / "bin" / "st"
CHECKS = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,ignored_auth"


async def test_the_api_holds_up_to_schemathesis(running_hub, tmp_path):
    assert SCHEMATHESIS.exists(), "schemathesis is missing: run bin/test-tools (bin/test does)"
    http = await running_hub.login("alex@northwind.example", PASSWORD)
    cookie = "; ".join(f"{c.key}={c.value}" for c in http.cookie_jar)
    await http.close()
    process = await asyncio.create_subprocess_exec(
        str(SCHEMATHESIS), "run", f"{running_hub.url}/api/openapi.json",
        "--header", f"Cookie: {cookie}", "--header", f"Origin: {running_hub.url}",
        # Signing out would end the session the rest of the run uses.
        "--exclude-path", "/api/auth/logout",
        "--checks", CHECKS, "--max-examples", "25", "--workers", "1", "--seed", "1",
        "--report-dir", str(tmp_path), "--no-color",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT, cwd=tmp_path)
    output, _ = await asyncio.wait_for(process.communicate(), 300)
    text = output.decode(errors="replace")
    assert process.returncode == 0, text[-6000:]
    assert " passed" in text and "failed" not in text.split("SUMMARY")[-1], text[-3000:]
