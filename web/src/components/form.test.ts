import { describe, expect, it } from "vitest";
import { ApiError } from "../api/client";
import { bodyFrom, fromInput, initialValues, splitError, type FieldSpec } from "./form";

const fields: FieldSpec[] = [
  { name: "name", label: "Name" },
  { name: "tags", label: "Tags", kind: "tags" },
  { name: "n", label: "N", kind: "number" },
  { name: "on", label: "On", kind: "bool" },
  { name: "cfg", label: "Config", kind: "json" },
  { name: "key", label: "Key", kind: "secret" },
];

describe("form values", () => {
  it("converts inputs to API values", () => {
    expect(fromInput("tags", " a, b ,,c")).toEqual(["a", "b", "c"]);
    expect(fromInput("number", "")).toBeNull();
    expect(fromInput("number", "2.5")).toBe(2.5);
    expect(() => fromInput("number", "x")).toThrow(/number/);
    expect(() => fromInput("json", "{")).toThrow(/JSON/);
    expect(fromInput("json", '{"a":1}')).toEqual({ a: 1 });
  });

  it("sends only what changed when editing, and never an empty secret", () => {
    const row = { name: "x", tags: ["a"], n: 1, on: true, cfg: { a: 1 }, key: "sk-…abcd" };
    const initial = initialValues(fields, row);
    expect(initial.key).toBe("");
    const { body } = bodyFrom(fields, { ...initial, n: "2" }, initial, true);
    expect(body).toEqual({ n: 2 });
    const { body: created, errors } = bodyFrom(fields, { ...initial, cfg: "nope" }, initialValues(fields), false);
    expect(errors).toEqual({ cfg: "is not valid JSON" });
    expect(created).toEqual({ name: "x", tags: ["a"], n: 1, on: true });
  });

  it("puts an API field error next to its field", () => {
    const e = new ApiError(422, "invalid_field", "models[1]: unknown model x/y", "models[1]");
    expect(splitError(e, ["name", "models"])).toEqual({ fields: { models: "unknown model x/y" } });
    expect(splitError(e, ["name"])).toEqual({ fields: {}, general: "models[1]: unknown model x/y" });
    expect(splitError(new Error("boom"), ["name"])).toEqual({ fields: {}, general: "boom" });
  });
});
