"""The official ``anthropic`` SDK, unchanged but for ``base_url`` and the key,
against ``/v1/messages`` of the gateway, for a model of every provider."""

from __future__ import annotations

import anthropic
import pytest

WEATHER_TOOL = {
    "name": "get_weather",
    "description": "Current weather in a city",
    "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
}

@pytest.fixture(scope="module")
def client(base_url: str, api_key: str) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=base_url, api_key=api_key, max_retries=0)


def text(content) -> str:
    """The text blocks of a message, joined. (Gemini's thought signatures come
    as extra signed thinking blocks, to be sent back on the next turn.)"""
    return "".join(b.text for b in content if b.type == "text")


def assert_anthropic_order(events) -> None:
    """Anthropic's grammar: message_start, blocks numbered 0, 1, ... (start,
    deltas, stop), message_delta, message_stop; ping anywhere."""
    events = [e for e in events if e.type != "ping"]
    assert events[0].type == "message_start"
    assert [e.type for e in events[-2:]] == ["message_delta", "message_stop"]
    open_index, next_index = None, 0
    for e in events[1:-2]:
        if e.type == "content_block_start":
            assert open_index is None and e.index == next_index
            open_index, next_index = e.index, next_index + 1
        elif e.type == "content_block_delta":
            assert e.index == open_index
        elif e.type == "content_block_stop":
            assert e.index == open_index
            open_index = None
        else:
            raise AssertionError(f"{e.type} out of order")
    assert open_index is None and next_index > 0


def test_plain_message_bare_and_qualified_model(client: anthropic.Anthropic, provider: str, model: str) -> None:
    for name in (f"{provider}/{model}", model):
        m = client.messages.create(
            model=name, max_tokens=256, system="Be brief.", messages=[{"role": "user", "content": "ping"}]
        )
        assert (m.type, m.role, m.stop_reason) == ("message", "assistant", "end_turn")
        assert text(m.content) == "Hello! You said: ping"
        assert m.usage.output_tokens > 0
        assert m.usage.input_tokens + (m.usage.cache_read_input_tokens or 0) > 0
        assert m.id


def test_stream_helper(client: anthropic.Anthropic, provider: str, model: str) -> None:
    with client.messages.stream(
        model=f"{provider}/{model}", max_tokens=256, messages=[{"role": "user", "content": "stream me [[chunks:4]]"}]
    ) as stream:
        pieces = list(stream.text_stream)
        final = stream.get_final_message()
    assert "".join(pieces) == "Hello! You said: stream me"
    assert len(pieces) >= 2, "streamed in pieces"
    assert text(final.content) == "Hello! You said: stream me"
    assert final.stop_reason == "end_turn"
    assert final.usage.output_tokens > 0


def test_raw_stream_events_in_anthropic_order(client: anthropic.Anthropic, provider: str, model: str) -> None:
    events = list(
        client.messages.create(
            model=f"{provider}/{model}",
            max_tokens=256,
            messages=[{"role": "user", "content": "order [[chunks:3]]"}],
            stream=True,
        )
    )
    assert_anthropic_order(events)
    start = events[0].message
    assert start.role == "assistant" and start.content == [] and start.stop_reason is None
    delta = next(e for e in events if e.type == "message_delta")
    assert delta.delta.stop_reason == "end_turn" and delta.usage.output_tokens > 0
    deltas = "".join(e.delta.text for e in events if e.type == "content_block_delta" and e.delta.type == "text_delta")
    assert deltas == "Hello! You said: order"


def test_tool_use_round_trip(client: anthropic.Anthropic, provider: str, model: str) -> None:
    messages = [{"role": "user", "content": 'weather? [[tool:get_weather {"city":"Paris"}]]'}]
    m = client.messages.create(model=f"{provider}/{model}", max_tokens=256, messages=messages, tools=[WEATHER_TOOL])
    assert m.stop_reason == "tool_use"
    use = next(b for b in m.content if b.type == "tool_use")
    assert (use.name, use.input) == ("get_weather", {"city": "Paris"})
    messages.append({"role": "assistant", "content": [b.model_dump(exclude_none=True) for b in m.content]})
    messages.append(
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": use.id, "content": "sunny, 21 C"}]}
    )
    m2 = client.messages.create(model=f"{provider}/{model}", max_tokens=256, messages=messages, tools=[WEATHER_TOOL])
    assert m2.stop_reason == "end_turn"
    assert "sunny, 21 C" in text(m2.content), "the tool result reached the model"


def test_streamed_tool_use(client: anthropic.Anthropic, provider: str, model: str) -> None:
    with client.messages.stream(
        model=f"{provider}/{model}",
        max_tokens=256,
        messages=[{"role": "user", "content": '[[tool:get_weather {"city":"Oslo"}]]'}],
        tools=[WEATHER_TOOL],
    ) as stream:
        final = stream.get_final_message()
    use = next(b for b in final.content if b.type == "tool_use")
    assert (use.name, use.input) == ("get_weather", {"city": "Oslo"})
    assert final.stop_reason == "tool_use"


def test_count_tokens(client: anthropic.Anthropic, gateway, chat_models: list[tuple[str, str]]) -> None:
    messages = [{"role": "user", "content": "How many tokens is this prompt, roughly speaking?"}]
    for provider, model in chat_models:
        r = client.messages.count_tokens(model=f"{provider}/{model}", messages=messages, tools=[WEATHER_TOOL])
        assert r.input_tokens > 0, provider
    # Anthropic models are counted by Anthropic (the mock), with the bare model code.
    gateway.clear_mock_requests()
    client.messages.count_tokens(model="anthropic/claude-haiku-4-5", messages=messages)
    sent = [r for r in gateway.mock_requests("anthropic") if r["path"].startswith("/v1/messages/count_tokens")]
    assert len(sent) == 1 and sent[0]["body"]["model"] == "claude-haiku-4-5"
    # Others are estimated without an upstream call.
    gateway.clear_mock_requests()
    client.messages.count_tokens(model="openai/gpt-5-mini", messages=messages)
    assert gateway.mock_requests() == []


def test_thinking_streams_as_thinking_blocks(client: anthropic.Anthropic) -> None:
    with client.messages.stream(
        model="anthropic/claude-haiku-4-5",
        max_tokens=4096,
        thinking={"type": "enabled", "budget_tokens": 2048},
        messages=[{"role": "user", "content": "think first [[thinking]]"}],
    ) as stream:
        final = stream.get_final_message()
    kinds = [b.type for b in final.content]
    assert kinds[0] == "thinking" and "text" in kinds, kinds
    assert final.content[0].thinking and final.content[0].signature


def test_errors_raise_the_sdk_exceptions(gateway, base_url: str, client: anthropic.Anthropic) -> None:
    bad = anthropic.Anthropic(base_url=base_url, api_key="spgw_not-a-key", max_retries=0)
    with pytest.raises(anthropic.AuthenticationError) as e:
        bad.messages.create(model="anthropic/claude-haiku-4-5", max_tokens=16, messages=[{"role": "user", "content": "hi"}])
    assert e.value.body["error"]["type"] == "authentication_error"

    with pytest.raises(anthropic.NotFoundError) as e:
        client.messages.create(model="anthropic/claude-0", max_tokens=16, messages=[{"role": "user", "content": "hi"}])
    assert e.value.body["error"]["type"] == "not_found_error"

    try:
        with pytest.raises(anthropic.RateLimitError) as e:
            client.messages.create(
                model="openai/gpt-5-mini",
                max_tokens=16,
                messages=[{"role": "user", "content": "[[status:429]] [[retry-after:60]]"}],
            )
    finally:
        gateway.reset_provider_key("openai")
    assert e.value.response.headers.get("retry-after") == "60"
    assert e.value.body["error"]["type"] == "rate_limit_error"

    with pytest.raises(anthropic.BadRequestError) as e:
        client.messages.create(
            model="google/gemini-3-flash-preview", max_tokens=16, messages=[{"role": "user", "content": "[[status:400]]"}]
        )
    assert e.value.body["error"]["type"] == "invalid_request_error"
    assert e.value.request_id, "the request-id header reaches the SDK"
