"""The official ``openai`` SDK against the gateway's media endpoints
(``/v1/embeddings``, ``/v1/images/generations``, ``/v1/audio/transcriptions``,
``/v1/audio/speech``), unchanged but for ``base_url`` and the key, reaching
the media models of every provider."""

from __future__ import annotations

import base64
import io
import wave

import httpx
import openai
import pytest

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def client(base_url: str, api_key: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{base_url}/v1", api_key=api_key, max_retries=0)


def silence_wav(seconds: float) -> bytes:
    """A WAV file of silence (16 kHz mono 16-bit)."""
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16_000)
        w.writeframes(b"\x00\x00" * int(16_000 * seconds))
    return out.getvalue()


@pytest.mark.parametrize(
    ("model", "dims"),
    [
        ("openai/text-embedding-3-small", 1536),
        ("gemini-embedding-001", 3072),
        ("huggingface/BAAI/bge-large-en-v1.5", 1024),
        ("intfloat/e5-large-v2", 1024),
    ],
)
def test_embeddings_on_every_provider(client: openai.OpenAI, model: str, dims: int) -> None:
    # The SDK asks for base64 and decodes it itself.
    r = client.embeddings.create(model=model, input=["the red fox", "the blue whale"])
    assert r.object == "list"
    assert [d.index for d in r.data] == [0, 1]
    assert all(len(d.embedding) == dims for d in r.data)
    norm = sum(x * x for x in r.data[0].embedding)
    assert abs(norm - 1.0) < 1e-3, "the mock's unit vectors survive the trip"
    assert r.usage.prompt_tokens > 0 and r.usage.total_tokens == r.usage.prompt_tokens
    # Floats on request, and the same vector for the same text.
    again = client.embeddings.create(model=model, input="the red fox", encoding_format="float")
    assert again.data[0].embedding == pytest.approx(r.data[0].embedding, abs=1e-6)


def test_embedding_dimensions(client: openai.OpenAI) -> None:
    r = client.embeddings.create(model="text-embedding-3-small", input="x", dimensions=256)
    assert len(r.data[0].embedding) == 256


@pytest.mark.parametrize(
    "model",
    ["openai/dall-e-3", "google/imagen-4.0-generate-001", "xai/grok-imagine-image", "black-forest-labs/FLUX.1-dev"],
)
def test_images_inline_and_by_url(client: openai.OpenAI, model: str) -> None:
    r = client.images.generate(model=model, prompt="a lighthouse at dusk", size="1024x1024", response_format="b64_json")
    assert r.created > 0 and len(r.data) == 1
    assert base64.b64decode(r.data[0].b64_json).startswith(PNG_SIGNATURE)
    r = client.images.generate(model=model, prompt="a lighthouse at dusk")
    url = r.data[0].url
    assert url and "/uploads/media/" in url
    got = httpx.get(url, timeout=10)
    assert got.status_code == 200 and got.headers["content-type"] == "image/png"
    assert got.content.startswith(PNG_SIGNATURE)


def test_dall_e_revises_the_prompt(client: openai.OpenAI) -> None:
    r = client.images.generate(model="dall-e-3", prompt="a fox", response_format="b64_json")
    assert r.data[0].revised_prompt == "A detailed rendering of: a fox"


def test_transcription_formats(client: openai.OpenAI, mock_requests) -> None:
    audio = silence_wav(1.5)
    t = client.audio.transcriptions.create(model="whisper-1", file=("memo.wav", audio, "audio/wav"), language="en")
    assert t.text == f"Mock transcript of memo.wav ({len(audio)} bytes)."
    verbose = client.audio.transcriptions.create(
        model="openai/whisper-1", file=("memo.wav", audio, "audio/wav"), response_format="verbose_json"
    )
    assert verbose.duration == pytest.approx(1.5)
    assert verbose.segments and verbose.segments[0].end == pytest.approx(1.5)
    text = client.audio.transcriptions.create(model="whisper-1", file=("memo.wav", audio), response_format="text")
    assert text.strip() == t.text
    srt = client.audio.transcriptions.create(model="whisper-1", file=("memo.wav", audio), response_format="srt")
    assert srt.startswith("1\n00:00:00,000 --> 00:00:01,500\n")
    upstream = [r for r in mock_requests("openai") if r["path"] == "/audio/transcriptions"]
    assert upstream[-4]["body"]["file"] == {"filename": "memo.wav", "content_type": "audio/wav", "bytes": len(audio)}
    assert upstream[-4]["body"]["language"] == "en"


@pytest.mark.parametrize("model", ["openai/gpt-audio", "google/gemini-2.5-flash-preview-tts"])
def test_speech_returns_audio(client: openai.OpenAI, model: str) -> None:
    r = client.audio.speech.create(model=model, voice="alloy", input="Hello from the gateway", response_format="wav")
    assert r.response.headers["content-type"] == "audio/wav"
    data = r.read()
    assert data[:4] == b"RIFF" and data[8:12] == b"WAVE"
    with wave.open(io.BytesIO(data)) as w:
        assert w.getnframes() / w.getframerate() == pytest.approx(1.0, abs=0.01), "four words, a quarter second each"


def test_errors_raise_the_sdk_exceptions(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as e:
        client.embeddings.create(model="openai/gpt-5-mini", input="x")
    assert e.value.body["param"] == "model"
    with pytest.raises(openai.NotFoundError):
        client.images.generate(model="no-such-image-model", prompt="x")
    with pytest.raises(openai.BadRequestError) as e:
        client.images.generate(model="dall-e-3", prompt="x", n=2)
    assert "n=1" in e.value.message, "the upstream's own refusal"
    with pytest.raises(openai.AuthenticationError):
        openai.OpenAI(base_url=client.base_url, api_key="wrong", max_retries=0).embeddings.create(
            model="text-embedding-3-small", input="x"
        )
