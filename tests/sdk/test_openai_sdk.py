"""The official ``openai`` SDK, unchanged but for ``base_url`` and the key,
against ``/v1`` of the gateway, for a model of every provider."""

from __future__ import annotations

import json

import openai
import pytest

WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather in a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}


@pytest.fixture(scope="module")
def client(base_url: str, api_key: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{base_url}/v1", api_key=api_key, max_retries=0)


def test_plain_completion_bare_and_qualified_model(client: openai.OpenAI, provider: str, model: str) -> None:
    for name in (f"{provider}/{model}", model):
        r = client.chat.completions.create(
            model=name,
            messages=[{"role": "system", "content": "Be brief."}, {"role": "user", "content": "ping"}],
        )
        assert r.object == "chat.completion"
        assert r.choices[0].message.role == "assistant"
        assert r.choices[0].message.content == "Hello! You said: ping"
        assert r.choices[0].finish_reason == "stop"
        assert r.usage is not None and r.usage.prompt_tokens > 0 and r.usage.completion_tokens > 0
        assert r.usage.total_tokens == r.usage.prompt_tokens + r.usage.completion_tokens
        assert r.id


def test_streaming_with_usage(client: openai.OpenAI, provider: str, model: str) -> None:
    stream = client.chat.completions.create(
        model=f"{provider}/{model}",
        messages=[{"role": "user", "content": "stream me [[chunks:4]]"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "Hello! You said: stream me"
    assert sum(1 for c in chunks if c.choices and c.choices[0].delta.content) >= 2, "streamed in pieces"
    assert chunks[0].choices[0].delta.role == "assistant"
    finishes = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
    assert finishes == ["stop"]
    # The usage chunk comes last, with no choices.
    assert chunks[-1].choices == [] and chunks[-1].usage is not None
    assert chunks[-1].usage.completion_tokens > 0
    assert len({c.id for c in chunks}) == 1


def test_streaming_without_usage_has_no_usage_chunk(client: openai.OpenAI, provider: str, model: str) -> None:
    chunks = list(
        client.chat.completions.create(
            model=f"{provider}/{model}", messages=[{"role": "user", "content": "hi"}], stream=True
        )
    )
    assert all(c.choices for c in chunks)
    assert all(c.usage is None for c in chunks)


def test_tool_call_round_trip(client: openai.OpenAI, provider: str, model: str) -> None:
    messages = [{"role": "user", "content": 'weather? [[tool:get_weather {"city":"Paris"}]]'}]
    r = client.chat.completions.create(model=f"{provider}/{model}", messages=messages, tools=[WEATHER_TOOL])
    choice = r.choices[0]
    assert choice.finish_reason == "tool_calls"
    call = choice.message.tool_calls[0]
    assert call.type == "function" and call.function.name == "get_weather"
    assert json.loads(call.function.arguments) == {"city": "Paris"}
    messages.append(choice.message.model_dump(exclude_none=True))
    messages.append({"role": "tool", "tool_call_id": call.id, "content": "sunny, 21 C"})
    r2 = client.chat.completions.create(model=f"{provider}/{model}", messages=messages, tools=[WEATHER_TOOL])
    assert "sunny, 21 C" in r2.choices[0].message.content, "the tool result reached the model"


def test_streamed_tool_call(client: openai.OpenAI, provider: str, model: str) -> None:
    stream = client.chat.completions.create(
        model=f"{provider}/{model}",
        messages=[{"role": "user", "content": '[[tool:get_weather {"city":"Oslo"}]]'}],
        tools=[WEATHER_TOOL],
        stream=True,
    )
    name, args, call_id, finish = "", "", None, None
    for chunk in stream:
        if not chunk.choices:
            continue
        for tc in chunk.choices[0].delta.tool_calls or []:
            assert tc.index == 0
            call_id = tc.id or call_id
            name += (tc.function.name or "") if tc.function else ""
            args += (tc.function.arguments or "") if tc.function else ""
        finish = chunk.choices[0].finish_reason or finish
    assert (name, json.loads(args), finish) == ("get_weather", {"city": "Oslo"}, "tool_calls")
    assert call_id


def test_json_response_format(client: openai.OpenAI, provider: str, model: str) -> None:
    r = client.chat.completions.create(
        model=f"{provider}/{model}",
        messages=[{"role": "user", "content": "json please [[json]]"}],
        response_format={"type": "json_object"},
    )
    assert isinstance(json.loads(r.choices[0].message.content), dict)


def test_models_list_and_retrieve(client: openai.OpenAI, chat_models: list[tuple[str, str]]) -> None:
    ids = {m.id for m in client.models.list()}
    for provider, model in chat_models:
        assert f"{provider}/{model}" in ids
    m = client.models.retrieve("openai/gpt-5-mini")
    assert (m.id, m.owned_by, m.object) == ("openai/gpt-5-mini", "openai", "model")


def test_errors_raise_the_sdk_exceptions(gateway, base_url: str, client: openai.OpenAI) -> None:
    bad = openai.OpenAI(base_url=f"{base_url}/v1", api_key="spgw_not-a-key", max_retries=0)
    with pytest.raises(openai.AuthenticationError) as e:
        bad.chat.completions.create(model="openai/gpt-5-mini", messages=[{"role": "user", "content": "hi"}])
    assert e.value.code == "invalid_api_key"

    with pytest.raises(openai.NotFoundError) as e:
        client.chat.completions.create(model="openai/gpt-0", messages=[{"role": "user", "content": "hi"}])
    assert e.value.code == "model_not_found"

    try:
        with pytest.raises(openai.RateLimitError) as e:
            client.chat.completions.create(
                model="deepseek/deepseek-chat",
                messages=[{"role": "user", "content": "[[status:429]] [[retry-after:60]]"}],
            )
    finally:
        gateway.reset_provider_key("deepseek")
    assert e.value.response.headers.get("retry-after") == "60"
    assert e.value.body["type"] == "rate_limit_error"

    with pytest.raises(openai.BadRequestError) as e:
        client.chat.completions.create(
            model="anthropic/claude-haiku-4-5", messages=[{"role": "user", "content": "[[status:400]]"}]
        )
    assert e.value.body["message"]
