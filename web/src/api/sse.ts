// Server-sent events over a POST (EventSource only does GET): reads the
// response body as it arrives and hands over each event as soon as its frame
// is complete.
import { ApiError } from "./client";

/** One server-sent event: its name and its data parsed as JSON (or the raw text). */
export interface SseEvent {
  event: string;
  data: unknown;
}

/** Splits an SSE byte stream into events. Feed text chunks; complete frames come out. */
export class SseParser {
  private buf = "";
  /** A chunk ending in CR may be half of a CRLF: decide when the next one comes. */
  private cr = false;

  /** Adds a chunk of text and returns the events it completed. */
  push(chunk: string): SseEvent[] {
    let text = (this.cr ? "\r" : "") + chunk;
    this.cr = text.endsWith("\r");
    if (this.cr) text = text.slice(0, -1);
    this.buf += text.replace(/\r\n?/g, "\n");
    const out: SseEvent[] = [];
    let end: number;
    while ((end = this.buf.indexOf("\n\n")) >= 0) {
      const frame = this.buf.slice(0, end);
      this.buf = this.buf.slice(end + 2);
      const ev = parseFrame(frame);
      if (ev) out.push(ev);
    }
    return out;
  }
}

function parseFrame(frame: string): SseEvent | null {
  let event = "message";
  const data: string[] = [];
  for (const line of frame.split("\n")) {
    if (!line || line.startsWith(":")) continue; // comments are keep-alives
    const i = line.indexOf(":");
    const field = i < 0 ? line : line.slice(0, i);
    let value = i < 0 ? "" : line.slice(i + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "event") event = value;
    else if (field === "data") data.push(value);
  }
  if (!data.length) return null;
  const text = data.join("\n");
  try {
    return { event, data: JSON.parse(text) };
  } catch {
    return { event, data: text };
  }
}

/**
 * POSTs `body` as JSON and calls `onEvent` for every event of the SSE answer.
 * A non-2xx answer (before any event) throws an ApiError.
 */
export async function postSse(url: string, body: unknown, onEvent: (e: SseEvent) => void, signal?: AbortSignal): Promise<void> {
  let resp: Response;
  try {
    resp = await fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "content-type": "application/json", accept: "text/event-stream" },
      body: JSON.stringify(body),
      signal,
    });
  } catch (e) {
    if (e instanceof DOMException && e.name === "AbortError") throw e;
    throw new ApiError(0, "network", "Cannot reach the gateway. Check that it is running.");
  }
  if (!resp.ok || !resp.body) {
    const text = await resp.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      /* plain text */
    }
    throw ApiError.from(resp.status, parsed);
  }
  const reader = resp.body.pipeThrough(new TextDecoderStream()).getReader();
  const parser = new SseParser();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    for (const ev of parser.push(value)) onEvent(ev);
  }
}
