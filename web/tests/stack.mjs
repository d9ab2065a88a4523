// Starts what the browser tests drive: the mock upstreams (spgw-mock) and a
// gateway (sp-gateway, debug build) in an empty temporary directory, with every
// provider pointed at the mock. `node tests/stack.mjs` keeps it running for
// manual use and prints the URL.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = fileURLToPath(new URL(".", import.meta.url));
const target = process.env.CARGO_TARGET_DIR ? resolve(process.env.CARGO_TARGET_DIR) : resolve(here, "../../target");
export const ADMIN_PASSWORD = "admin-password-123";

/** Runs a binary and resolves with the address it prints after `marker`. */
function startPrinting(bin, args, opts, marker) {
  return new Promise((ok, fail) => {
    const child = spawn(bin, args, { ...opts, stdio: ["ignore", "pipe", "inherit"] });
    let buf = "";
    const timer = setTimeout(() => fail(new Error(`${bin} did not print "${marker}" within 60 s`)), 60_000);
    child.on("error", (e) => {
      clearTimeout(timer);
      fail(new Error(`cannot start ${bin}: ${e.message} (build it with cargo build)`));
    });
    child.on("exit", (code) => {
      clearTimeout(timer);
      fail(new Error(`${bin} exited with ${code} before it was ready`));
    });
    child.stdout.on("data", (d) => {
      buf += d.toString();
      const i = buf.indexOf(marker);
      if (i >= 0) {
        const addr = buf.slice(i + marker.length).split(/\s/)[0];
        if (addr) {
          clearTimeout(timer);
          child.stdout.resume();
          ok({ child, addr });
        }
      }
    });
  });
}

/** A tiny cookie-keeping client for set-up calls. */
export async function apiClient(base, username = "admin", password = ADMIN_PASSWORD) {
  const r = await fetch(`${base}/api/v1/login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ username, password }),
  });
  if (!r.ok) throw new Error(`login failed: ${r.status} ${await r.text()}`);
  const cookie = (r.headers.get("set-cookie") ?? "").split(";")[0];
  return async (method, path, body) => {
    const resp = await fetch(`${base}${path}`, {
      method,
      headers: { cookie, "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await resp.text();
    let json = null;
    try {
      json = JSON.parse(text);
    } catch {
      json = text;
    }
    return { status: resp.status, body: json };
  };
}

/** Starts the mock and the gateway; `stop()` ends both and removes the directory. */
export async function startStack() {
  const dir = mkdtempSync(join(tmpdir(), "spgw-web-e2e-"));
  const mock = await startPrinting(join(target, "debug", "spgw-mock"), ["127.0.0.1:0"], {}, "listening on ");
  let gw;
  try {
    const env = {
      ...process.env,
      SPGW__SERVER__PORT: "0",
      SPGW__SERVER__HOST: "127.0.0.1",
      SPGW_ADMIN_PASSWORD: ADMIN_PASSWORD,
      RUST_LOG: "error",
    };
    delete env.CONFIG_PATH;
    delete env.SPGW__DATABASE__URL;
    delete env.SPGW__REDIS__URL;
    gw = await startPrinting(join(target, "debug", "sp-gateway"), [], { cwd: dir, env }, "listening on http://");
  } catch (e) {
    mock.child.kill("SIGTERM");
    throw e;
  }
  const base = `http://${gw.addr}`;
  const mockBase = `http://${mock.addr}`;
  const api = await apiClient(base);
  const paths = {
    openai: "/openai/v1",
    anthropic: "/anthropic",
    google: "/google",
    xai: "/xai/v1",
    deepseek: "/deepseek",
    huggingface: "/huggingface/v1",
  };
  for (const [name, path] of Object.entries(paths)) {
    const list = await api("GET", `/api/v1/list/providers?name=${name}`);
    const id = list.body?.data?.[0]?.id;
    if (!id) throw new Error(`provider ${name} missing from the catalog: ${JSON.stringify(list.body)}`);
    const r = await api("PATCH", `/api/v1/update/provider/${id}`, { base_url: mockBase + path, api_key: `key-${name}-1` });
    if (r.status !== 200) throw new Error(`cannot point ${name} at the mock: ${r.status} ${JSON.stringify(r.body)}`);
  }
  return {
    base,
    api,
    stop() {
      for (const c of [gw.child, mock.child]) c.kill("SIGTERM");
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const s = await startStack();
  console.log(`gateway ${s.base}  (admin / ${ADMIN_PASSWORD}); Ctrl+C stops`);
  const stop = () => {
    s.stop();
    process.exit(0);
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}
