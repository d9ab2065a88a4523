"""The gateway as an MCP server: the official Python `mcp` client (2.x) lists
and calls the built-in plugins at `/mcp` over streamable HTTP with a gateway
API key, scoped to the key's user's agents."""

from __future__ import annotations

import asyncio
import json

import httpx
import httpx2
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client


def _agent(admin: httpx.Client, name: str) -> tuple[int, int]:
    project = admin.post("/api/v1/add/project", json={"name": name}).raise_for_status().json()["id"]
    agent = (
        admin.post(
            "/api/v1/add/agent",
            json={"project_id": project, "name": f"{name} agent", "models": [{"provider": "openai", "model_code": "gpt-5-mini"}]},
        )
        .raise_for_status()
        .json()["id"]
    )
    return project, agent


async def _session_calls(url: str, key: str, agent: int) -> dict:
    out: dict = {}
    async with httpx2.AsyncClient(headers={"Authorization": f"Bearer {key}"}, timeout=30) as http:
        async with streamable_http_client(url, http_client=http) as (read, write, *_):
            async with ClientSession(read, write) as session:
                init = await session.initialize()
                out["server"] = init.server_info.name
                listed = await session.list_tools()
                out["tools"] = {t.name: t.input_schema for t in listed.tools}
                created = await session.call_tool("task.create", {"agent_id": agent, "title": "Filed over MCP"})
                out["created"] = (created.is_error, created.content[0].text)
                found = await session.call_tool("task.list", {"agent_id": agent})
                out["listed"] = (found.is_error, found.content[0].text)
                foreign = await session.call_tool("task.list", {"agent_id": 999999})
                out["foreign"] = (foreign.is_error, foreign.content[0].text)
    return out


def test_mcp_client_lists_and_calls_gateway_tools(base_url: str, api_key: str, admin: httpx.Client) -> None:
    project, agent = _agent(admin, "MCP project")
    got = asyncio.run(_session_calls(base_url + "/mcp", api_key, agent))
    assert got["server"] == "sp-gateway"
    for name in ("agent.list", "task.create", "task.list", "report.create", "living_document.upsert"):
        assert name in got["tools"], got["tools"].keys()
        assert "agent_id" in got["tools"][name]["required"], got["tools"][name]
    is_error, text = got["created"]
    assert not is_error, text
    assert isinstance(json.loads(text), dict), text
    is_error, text = got["listed"]
    assert not is_error and "Filed over MCP" in text, text
    is_error, text = got["foreign"]
    assert is_error and "not found" in text, text
    # The task is a real row in the agent's project.
    tasks = admin.get("/api/v1/list/tasks", params={"project_id": project}).raise_for_status().json()["data"]
    assert [t["title"] for t in tasks] == ["Filed over MCP"]


def test_mcp_endpoint_needs_an_api_key(base_url: str, admin: httpx.Client) -> None:
    ping = {"jsonrpc": "2.0", "id": 1, "method": "ping"}
    assert httpx.post(base_url + "/mcp", json=ping).status_code == 401
    # A login cookie is not enough either: MCP clients authenticate with a gateway API key.
    assert admin.post("/mcp", json=ping).status_code == 401
