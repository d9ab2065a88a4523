import { describe, expect, it } from "vitest";
import { SseParser } from "./sse";

describe("SseParser", () => {
  it("yields events only when their frame is complete, however the bytes are split", () => {
    const wire =
      'event: start\ndata: {"session_id":"s1"}\n\n: keep-alive\n\nevent: text_delta\ndata: {"text":"Hel"}\n\nevent: text_delta\r\ndata: {"text":"lo"}\r\n\r\n';
    for (let cut = 1; cut < wire.length; cut += 3) {
      const p = new SseParser();
      const events = [...p.push(wire.slice(0, cut)), ...p.push(wire.slice(cut))];
      expect(events).toEqual([
        { event: "start", data: { session_id: "s1" } },
        { event: "text_delta", data: { text: "Hel" } },
        { event: "text_delta", data: { text: "lo" } },
      ]);
    }
  });

  it("joins multi-line data and keeps non-JSON text", () => {
    const p = new SseParser();
    expect(p.push("data: a\ndata: b\n\n")).toEqual([{ event: "message", data: "a\nb" }]);
    expect(p.push("event: x\n")).toEqual([]);
  });
});
