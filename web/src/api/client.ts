// The typed API client: openapi-fetch over the types generated from the
// gateway's OpenAPI document (schema.d.ts), plus helpers for the generic
// resource API and for endpoints the document does not describe yet.
import createClient from "openapi-fetch";
import type { paths } from "./schema";

/** An error answered by the gateway: `{"error":{"code","message","field"}}`. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  /** The request field at fault (422), shown next to that field. */
  readonly field?: string;

  constructor(status: number, code: string, message: string, field?: string) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.field = field;
  }

  /** Builds the error from a response status and its (parsed) body. */
  static from(status: number, body: unknown): ApiError {
    const e = (body as { error?: { code?: string; message?: string; field?: string } } | undefined)?.error;
    if (e && typeof e === "object") {
      return new ApiError(status, e.code ?? "error", e.message ?? `request failed (${status})`, e.field);
    }
    const text = typeof body === "string" && body.length < 300 ? body : "";
    return new ApiError(status, "http_" + status, text || `request failed with status ${status}`);
  }
}

/** Whether an endpoint is missing from this gateway (a route not built yet), as opposed to a missing row. */
export function isMissingRoute(e: unknown): boolean {
  return e instanceof ApiError && e.status === 404 && /^no route for /.test(e.message);
}

let unauthorized: () => void = () => {};

/** Called whenever the gateway answers 401 (the login expired or was revoked). */
export function onUnauthorized(fn: () => void) {
  unauthorized = fn;
}

/** The generated, typed client. Same origin: the login cookie authenticates. */
export const api = createClient<paths>({ baseUrl: "", credentials: "same-origin" });

api.use({
  onResponse({ request, response }) {
    if (response.status === 401 && !new URL(request.url).pathname.endsWith("/login")) unauthorized();
    return response;
  },
});

type Fetched = { data?: unknown; error?: unknown; response: Response };

/** Awaits an openapi-fetch call: its data, or an ApiError. */
export async function call<T>(p: Promise<Fetched>): Promise<T> {
  let r: Fetched;
  try {
    r = await p;
  } catch (e) {
    throw network(e);
  }
  if (!r.response.ok) throw ApiError.from(r.response.status, r.error);
  return r.data as T;
}

function network(e: unknown): Error {
  if (e instanceof DOMException && e.name === "AbortError") return e;
  return new ApiError(0, "network", "Cannot reach the gateway. Check that it is running.");
}

/**
 * A call to an endpoint the OpenAPI document does not describe (yet): same
 * error handling as `call`. A FormData body is sent as multipart.
 */
export async function http<T>(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
  const init: RequestInit = { method, credentials: "same-origin", signal, headers: {} };
  if (body instanceof FormData) init.body = body;
  else if (body !== undefined) {
    init.body = JSON.stringify(body);
    (init.headers as Record<string, string>)["content-type"] = "application/json";
  }
  let resp: Response;
  try {
    resp = await fetch(path, init);
  } catch (e) {
    throw network(e);
  }
  if (resp.status === 401) unauthorized();
  const text = await resp.text();
  let parsed: unknown = text;
  if ((resp.headers.get("content-type") ?? "").includes("json") && text) {
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = text;
    }
  }
  if (!resp.ok) throw ApiError.from(resp.status, parsed);
  return parsed as T;
}

/** A page of the generic list endpoint. */
export interface Page<T> {
  data: T[];
  /** Matching rows; a lower bound when `total_capped` (the gateway stops counting, or only looks one page ahead). */
  total: number;
  total_capped?: boolean;
  limit: number;
  offset: number;
}

export type Query = Record<string, string | number | boolean | undefined | null>;

function clean(q: Query): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(q)) if (v !== undefined && v !== null && v !== "") out[k] = String(v);
  return out;
}

/** The generic resource API of SPEC §4 (its bodies are untyped in the document: rows are view models). */
export const resources = {
  list<T>(plural: string, query: Query = {}): Promise<Page<T>> {
    return call(api.GET("/api/v1/list/{type}", { params: { path: { type: plural }, query: clean(query) as never } }));
  },
  get<T>(singular: string, id: number | string): Promise<T> {
    return call(api.GET("/api/v1/get/{type}/{id}", { params: { path: { type: singular, id: Number(id) } } }));
  },
  add<T>(singular: string, body: object): Promise<T> {
    return call(api.POST("/api/v1/add/{type}", { params: { path: { type: singular } }, body: body as never }));
  },
  patch<T>(singular: string, id: number, body: object): Promise<T> {
    return call(api.PATCH("/api/v1/update/{type}/{id}", { params: { path: { type: singular, id } }, body: body as never }));
  },
  del(singular: string, id: number | string): Promise<unknown> {
    return call(api.DELETE("/api/v1/del/{type}/{id}", { params: { path: { type: singular, id: id as number } } }));
  },
};

/** Uploads an image (project logo, agent avatar) as multipart field `file`. */
export function uploadImage<T>(kind: "project" | "agent", id: number, file: File): Promise<T> {
  const form = new FormData();
  form.append("file", file);
  const opts = { params: { path: { id } }, body: form as never, bodySerializer: (b: unknown) => b as FormData };
  return kind === "project" ? call(api.POST("/api/v1/projects/{id}/logo", opts)) : call(api.POST("/api/v1/agents/{id}/avatar", opts));
}
