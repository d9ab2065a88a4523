// Browser tests of the embedded UI: headless Debian Chromium driven by
// playwright-core against a real gateway (debug build) whose providers point
// at the mock upstreams. Flows: sign in, stream a chat (and answer a tool
// call), create an API key and see it once, create a project, an agent (avatar
// upload, models reordered by keyboard) and a task, and watch the task finish.
// Every main screen is screenshotted into test-results/ (phone width too).
// Any console error, page error or unexpected failed request fails the run.
//
//   node tests/e2e.mjs            (binaries from ${CARGO_TARGET_DIR:-../target}/debug)
import { mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { deflateSync } from "node:zlib";
import { chromium } from "playwright-core";
import { ADMIN_PASSWORD, startStack } from "./stack.mjs";

const out = join(dirname(fileURLToPath(import.meta.url)), "..", "test-results");
mkdirSync(out, { recursive: true });
const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
const MODEL = "openai/gpt-5-mini";
const SECOND_MODEL = "anthropic/claude-haiku-4-5";

const results = [];
const problems = [];
/** Error responses a step provokes on purpose: [status, path pattern]. */
let expected = [];

async function step(name, fn) {
  const started = Date.now();
  const before = problems.length;
  try {
    await fn();
    if (problems.length > before) throw new Error(problems.slice(before).join("\n    "));
    results.push({ name, ok: true });
    console.log(`ok   ${name} (${Date.now() - started} ms)`);
  } catch (e) {
    results.push({ name, ok: false });
    console.log(`FAIL ${name}: ${e.message.split("\n").slice(0, 6).join("\n    ")}`);
    await page?.screenshot({ path: join(out, `failure-${slug(name)}.png`), fullPage: true }).catch(() => {});
  } finally {
    expected = [];
  }
}

const slug = (s) =>
  s
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-|-$/g, "");

function watch(p) {
  p.on("console", (m) => {
    // Failed loads are judged by the response listener, which knows the URL.
    if (m.type() === "error" && !m.text().startsWith("Failed to load resource")) problems.push(`console error: ${m.text()}`);
  });
  p.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  p.on("response", (r) => {
    if (r.status() < 400) return;
    const path = new URL(r.url()).pathname;
    if (expected.some(([status, re]) => status === r.status() && re.test(path))) return;
    problems.push(`unexpected ${r.status()} for ${r.request().method()} ${path}`);
  });
  p.on("requestfailed", (r) => {
    // Aborted on purpose: a screen left, a stream closed.
    if (r.failure()?.errorText === "net::ERR_ABORTED") return;
    problems.push(`request failed: ${r.method()} ${r.url()} ${r.failure()?.errorText}`);
  });
}

/** Waits until a screen has its heading and nothing is loading. */
async function settled(p = page) {
  await p.locator("#page-title").first().waitFor();
  await p.waitForFunction(() => !document.querySelector(".spinner"), null, { timeout: 15_000 });
}

async function shot(name, p = page) {
  await p.screenshot({ path: join(out, `${name}.png`), fullPage: true });
}

function assert(cond, message) {
  if (!cond) throw new Error(message);
}

/** A small valid PNG (a 32×32 gradient), built here so the test needs no fixture file. */
function png() {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (buf) => {
    let c = 0xffffffff;
    for (const b of buf) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type, data) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const td = Buffer.concat([Buffer.from(type), data]);
    const c = Buffer.alloc(4);
    c.writeUInt32BE(crc(td));
    return Buffer.concat([len, td, c]);
  };
  const w = 32;
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(w, 4);
  ihdr[8] = 8;
  ihdr[9] = 2; // RGB
  const rows = [];
  for (let y = 0; y < w; y++) {
    rows.push(0);
    for (let x = 0; x < w; x++) rows.push(x * 8, y * 8, 200);
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", ihdr),
    chunk("IDAT", deflateSync(Buffer.from(rows))),
    chunk("IEND", Buffer.alloc(0)),
  ]);
}

let page;
const stack = await startStack();
const base = stack.base;
const browser = await chromium.launch({
  executablePath: CHROMIUM,
  headless: true,
  args: [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
  ],
});
const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
page = await context.newPage();
page.setDefaultTimeout(15_000);
watch(page);
const state = {};

try {
  await step("log in", async () => {
    // Before signing in, /api/v1/me answers 401: that is how the UI learns to show the form.
    expected = [
      [401, /^\/api\/v1\/me$/],
      [401, /^\/api\/v1\/login$/],
    ];
    await page.goto(base + "/");
    await page.getByLabel("Username").fill("admin");
    await page.getByLabel("Password").fill("wrong password");
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("alert").filter({ hasText: "invalid username or password" }).waitFor();
    await shot("login");
    await page.getByLabel("Password").fill(ADMIN_PASSWORD);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("heading", { name: "Dashboard" }).waitFor();
    await settled();
  });

  await step("chat streams token by token", async () => {
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Chat" }).click();
    await settled();
    await page.locator("#chat-model").selectOption(MODEL);
    await page.locator("#chat-input").fill("Tell me a story [[chunks:10]] [[gap-ms:120]]");
    await page.locator("#chat-input").press("Enter");
    const reply = page.locator(".msg-assistant").last();
    const seen = new Set();
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      const busy = await reply.getAttribute("aria-busy");
      seen.add(
        (await reply
          .locator(".prewrap")
          .first()
          .textContent()
          .catch(() => "")) ?? "",
      );
      if (busy !== "true" && seen.size > 1) break;
      await page.waitForTimeout(40);
    }
    const final = (await reply.locator(".prewrap").first().textContent())?.trim();
    assert(final === "Hello! You said: Tell me a story", `final reply: ${final}`);
    const partial = [...seen].filter((t) => t && t !== "…" && t.trim() !== final);
    assert(partial.length >= 3, `the reply grew in steps (saw ${partial.length} partial texts: ${JSON.stringify(partial)})`);
    assert((await reply.locator(".msg-meta").textContent()).includes("openai/gpt-5-mini"), "the reply names its model");
    await page.waitForURL(/session=/);
    state.session = new URL(page.url()).searchParams.get("session");

    // Continue the session: the second turn goes to the same session.
    await page.locator("#chat-input").fill("And another one");
    await page.getByRole("button", { name: "Send" }).click();
    await page.locator(".msg-assistant").nth(1).getByText("Hello! You said: And another one").waitFor();
    const s = await stack.api("GET", `/api/v1/session/${state.session}`);
    assert(s.status === 200 && s.body.messages.length === 4, `session has 4 messages: ${JSON.stringify(s.body).slice(0, 300)}`);
    await shot("chat");
  });

  await step("chat shows a tool call and sends its result", async () => {
    await page.getByText("More options").click();
    const tool = {
      name: "get_weather",
      description: "Weather for a city",
      parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
    };
    await page.getByLabel("Tools (JSON)").fill(JSON.stringify([tool]));
    await page.locator("#chat-input").fill('What is the weather? [[tool:get_weather {"city":"Paris"}]]');
    await page.locator("#chat-input").press("Enter");
    const call = page.locator(".tool-call").last();
    await call.getByText("get_weather", { exact: true }).waitFor();
    assert((await call.locator("pre").textContent()).includes('"city": "Paris"'), "the call's arguments are shown");
    await call.getByLabel("Result of get_weather").fill("Sunny, 21 °C");
    await call.getByRole("button", { name: "Send result" }).click();
    await page.locator(".msg-tool").getByText("Sunny, 21 °C").waitFor();
    await page
      .locator(".msg-assistant")
      .last()
      .getByText(/Sunny, 21 °C/)
      .waitFor();
    await shot("chat-tools");
  });

  await step("new API key is shown once and works", async () => {
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "API keys" }).click();
    await settled();
    await shot("api-keys-empty");
    await page.getByRole("button", { name: "Create API key" }).first().click();
    const dialog = page.getByRole("dialog");
    await dialog.getByLabel("Name").fill("e2e laptop");
    await dialog.getByRole("button", { name: "Create key" }).click();
    const key = (await page.getByTestId("new-key").textContent()).trim();
    assert(/^spgw_/.test(key), `a full key is shown: ${key}`);
    await page.getByRole("button", { name: "Copy" }).click();
    await page.getByRole("button", { name: /Copied|Select and copy/ }).waitFor();
    await shot("api-key-created");
    await page.getByRole("button", { name: "I have copied it" }).click();
    await page.getByRole("cell", { name: "e2e laptop", exact: true }).waitFor();
    assert(!(await page.content()).includes(key), "the key is not shown again");
    const me = await fetch(`${base}/api/v1/me`, { headers: { "X-API-Key": key } });
    assert(me.status === 200, `the key authenticates: ${me.status}`);
    await shot("api-keys");
  });

  await step("create a project", async () => {
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Projects" }).click();
    await settled();
    await shot("projects-empty");
    await page.getByRole("button", { name: "New project" }).first().click();
    const dialog = page.getByRole("dialog");
    await dialog.getByLabel("Name").fill("Website relaunch");
    await dialog.getByLabel("Description").fill("Ship the new marketing site.");
    await dialog.getByLabel("Logo (optional)").setInputFiles({ name: "logo.png", mimeType: "image/png", buffer: png() });
    await dialog.getByRole("button", { name: "Create project" }).click();
    await page.waitForURL(/\/projects\/\d+$/);
    state.project = Number(page.url().split("/").pop());
    await page.getByRole("heading", { name: "Website relaunch" }).waitFor();
    const logo = await page.locator("#page-title img.avatar").getAttribute("src");
    assert(logo?.startsWith("/uploads/"), `the logo is served from /uploads: ${logo}`);
    await settled();
    await shot("project-tasks-empty");
  });

  await step("create an agent with models, reorder them and upload an avatar", async () => {
    await page.getByRole("link", { name: "Agents", exact: true }).click();
    await settled();
    await page.getByRole("button", { name: "New agent" }).first().click();
    const dialog = page.getByRole("dialog");
    await dialog.getByRole("textbox", { name: "Name", exact: true }).fill("Ada");
    await dialog.getByLabel("Job title").fill("Writer");
    await dialog.getByLabel("Job tags").fill("writing");
    await dialog.getByLabel("Soul").fill("Calm and precise.");
    await dialog.getByLabel("Model to add").selectOption(MODEL);
    await dialog.getByRole("button", { name: "Add model" }).click();
    await dialog.getByLabel("Model to add").selectOption(SECOND_MODEL);
    await dialog.getByRole("button", { name: "Add model" }).click();
    await shot("agent-create");
    await dialog.getByRole("button", { name: "Create agent" }).click();
    await page.waitForURL(/\/agents\/\d+$/);
    state.agent = Number(page.url().split("/").pop());
    await settled();

    // Keyboard reordering: the second model moves to first place.
    const handle = page.getByRole("button", { name: /^Reorder .*claude-haiku-4-5.*position 2$/ });
    await handle.focus();
    await page.keyboard.press("ArrowUp");
    await page.getByRole("button", { name: /^Reorder .*claude-haiku-4-5.*position 1$/ }).waitFor();
    await page.getByRole("button", { name: "Save agent" }).click();
    await page.getByText("Saved").first().waitFor();
    const a = await stack.api("GET", `/api/v1/get/agent/${state.agent}`);
    assert(
      a.body.models?.[0]?.model_code === "claude-haiku-4-5" && a.body.models?.[1]?.model_code === "gpt-5-mini",
      `models saved in the new order: ${JSON.stringify(a.body.models)}`,
    );

    await page.getByLabel("Upload avatar").setInputFiles({ name: "ada.png", mimeType: "image/png", buffer: png() });
    await page.locator("#page-title img.avatar").waitFor();
    const src = await page.locator("#page-title img.avatar").getAttribute("src");
    assert(src?.startsWith("/uploads/"), `the avatar is served from /uploads: ${src}`);
    const img = await page.request.get(base + src);
    assert(img.status() === 200 && (await img.body()).subarray(1, 4).toString() === "PNG", "the avatar image is served");

    // Give Ada the task tools.
    await page.getByLabel(/Tasks task_plugin/).check();
    await page.getByText("Gave task_plugin").waitFor();
    await shot("agent");
  });

  await step("task form: API field error next to the field, cron preview", async () => {
    await page.goto(`${base}/projects/${state.project}/tasks`);
    await settled();
    await page.getByRole("button", { name: "New task" }).first().click();
    const dialog = page.getByRole("dialog");
    expected = [[422, /^\/api\/v1\/tasks$/]];
    await dialog.getByLabel("Title").fill("x".repeat(300));
    await dialog.getByRole("button", { name: "Create task" }).click();
    const title = dialog.getByLabel("Title");
    await dialog.locator(".field-error").first().waitFor();
    assert((await title.getAttribute("aria-invalid")) === "true", "the title is marked invalid");
    const describedBy = await title.getAttribute("aria-describedby");
    const message = await page.locator(`[id="${describedBy.split(" ").pop()}"]`).textContent();
    assert(/191|long|characters/i.test(message), `the API's message is next to the title: ${message}`);

    await dialog.getByLabel("Repeat on a cron pattern").check();
    await dialog.getByRole("textbox", { name: "Pattern" }).fill("30 9 * * 1-5");
    await dialog.getByRole("combobox", { name: "Time zone" }).fill("Europe/Paris");
    await dialog.getByText("Every weekday at 09:30 (Europe/Paris)").waitFor();
    const runs = await dialog.locator(".next-runs li").allTextContents();
    assert(runs.length === 5, `five next runs are previewed: ${runs}`);
    await dialog.getByRole("textbox", { name: "Pattern" }).fill("61 * * * *");
    await dialog.locator(".preview .field-error").waitFor();
    await shot("task-create-schedule");
    await dialog.getByRole("button", { name: "Cancel" }).click();
  });

  await step("create a task and watch it finish", async () => {
    await page.getByRole("button", { name: "New task" }).first().click();
    const dialog = page.getByRole("dialog");
    await dialog.getByLabel("Title").fill("Write a haiku about releases");
    await dialog.getByLabel("Description").fill("Five, seven, five.");
    await dialog.getByLabel("Tags").fill("writing");
    await dialog
      .getByLabel("Attachments")
      .setInputFiles({ name: "brief.txt", mimeType: "text/plain", buffer: Buffer.from("Keep it short.") });
    await dialog.getByRole("button", { name: "Create task" }).click();
    await page.waitForURL(/\/tasks\/\d+$/);
    state.task = Number(page.url().split("/").pop());
    await settled();
    await page.getByRole("link", { name: "brief.txt" }).waitFor();
    await shot("task-running");
    // The executor gives it to Ada (tag "writing"); her first model answers through the mock.
    await page.getByTestId("task-output").waitFor({ timeout: 90_000 });
    const output = await page.getByTestId("task-output").textContent();
    assert(output.includes("Hello! You said"), `the output is the model's answer: ${output.slice(0, 200)}`);
    await page.locator(".task-status .badge").getByText("completed").waitFor();
    assert((await page.getByRole("link", { name: "Ada" }).count()) > 0, "the task names its agent");
    await shot("task");
    await page.getByRole("link", { name: "Task board" }).click();
    await settled();
    const done = page.locator(".board-col", { has: page.getByRole("heading", { name: /Completed/ }) });
    await done.getByRole("link", { name: "Write a haiku about releases" }).waitFor();
    await shot("task-board");
  });

  await step("chat with an agent: the gateway runs its tools", async () => {
    await page.goto(`${base}/chat?agent_id=${state.agent}`);
    await settled();
    await page.getByLabel("Operation").selectOption("conversation");
    await page.locator("#chat-input").fill("Which tasks are there? [[tool:task_list {}]]");
    await page.locator("#chat-input").press("Enter");
    // The call, its result from the gateway (Ada has the task skill), then the model's answer.
    await page.locator(".tool-call").getByText("task.list", { exact: true }).first().waitFor();
    const result = page.locator(".msg-tool").last();
    await result.waitFor();
    assert(
      (await result.textContent()).includes("Write a haiku about releases"),
      `the tool result lists the task: ${await result.textContent()}`,
    );
    await page
      .locator(".msg-assistant")
      .last()
      .getByText(/Write a haiku about releases/)
      .waitFor();
    assert((await page.locator(".msg[aria-busy=true]").count()) === 0, "nothing is left streaming");
    await shot("chat-agent-tools");
  });

  await step("every main screen renders", async () => {
    const screens = [
      ["dashboard", "/"],
      ["dashboard-by-model", "/?group=model&range=7d"],
      ["request-log", "/logs"],
      ["sessions", "/sessions"],
      ["session", `/sessions/${state.session}`],
      ["providers", "/providers"],
      ["provider-openai", "/providers?provider=openai"],
      ["models", "/models"],
      ["users", "/users"],
      ["settings", "/settings"],
      ["projects", "/projects"],
      ["project-agents", `/projects/${state.project}/agents`],
      ["project-triggers", `/projects/${state.project}/triggers`],
      ["project-reports", `/projects/${state.project}/reports`],
      ["project-documents", `/projects/${state.project}/documents`],
      ["project-codebases", `/projects/${state.project}/codebases`],
      ["project-resources", `/projects/${state.project}/resources`],
      ["project-assets", `/projects/${state.project}/assets`],
      ["project-credentials", `/projects/${state.project}/credentials`],
      ["project-mcp-tools", `/projects/${state.project}/mcp-tools`],
      ["project-settings", `/projects/${state.project}/settings`],
      ["chat-empty", "/chat"],
    ];
    for (const [name, path] of screens) {
      const t0 = Date.now();
      await page.goto(base + path);
      await settled();
      if (await page.locator(".error-note").count())
        throw new Error(`${path} shows an error: ${await page.locator(".error-note").first().textContent()}`);
      await shot(name);
      if (process.env.E2E_VERBOSE) console.log(`     ${path}: ${Date.now() - t0} ms`);
    }
    await page.goto(base + "/");
    await settled();
    const kpi = await page.locator(".kpi-value").first().textContent();
    assert(Number(kpi) >= 3, `the dashboard counts the chats: ${kpi}`);
    assert((await page.locator(".chart svg rect").count()) > 0, "the charts have bars");
  });

  await step("living document keeps revisions with a diff", async () => {
    await page.goto(`${base}/projects/${state.project}/documents`);
    await settled();
    await page.getByRole("button", { name: "New document" }).first().click();
    const dialog = page.getByRole("dialog");
    await dialog.getByLabel("Title").fill("Release checklist");
    await dialog.getByLabel("Content").fill("1. Tag\n2. Build\n3. Publish");
    await dialog.getByRole("button", { name: "Create document" }).click();
    await page.waitForURL(/\/documents\/\d+$/);
    await settled();
    await page.getByRole("button", { name: "Edit" }).click();
    await page.getByLabel("Content").fill("1. Tag\n2. Build and sign\n3. Publish");
    await page.getByRole("button", { name: "Save as a new revision" }).click();
    await page.getByText("Revision 2", { exact: true }).first().waitFor();
    await page.locator(".diff .add").getByText("2. Build and sign").waitFor();
    await page.locator(".diff .del").getByText("2. Build").first().waitFor();
    await shot("document");
  });

  await step("confirm before deleting", async () => {
    await page.goto(`${base}/projects/${state.project}/assets`);
    await settled();
    await page.getByRole("button", { name: "New asset" }).first().click();
    const dialog = page.getByRole("dialog");
    await dialog.getByLabel("Name").fill("build-1");
    await dialog.getByLabel("Type").fill("server");
    await dialog.getByRole("button", { name: "Create asset" }).click();
    await page.getByRole("cell", { name: "build-1", exact: true }).waitFor();
    await page.getByRole("button", { name: "Delete build-1" }).click();
    await page.getByRole("dialog").getByText("will be deleted").waitFor();
    await page.getByRole("dialog").getByRole("button", { name: "Cancel" }).click();
    assert(await page.getByRole("cell", { name: "build-1", exact: true }).isVisible(), "cancel keeps the row");
    await page.getByRole("button", { name: "Delete build-1" }).click();
    await page.getByRole("dialog").getByRole("button", { name: "Delete" }).click();
    await page.getByText("No assets yet").waitFor();
  });

  await step("an MCP server shows its health and tools", async () => {
    // Nothing listens on port 9: listing its tools fails, and the server shows unreachable.
    expected = [[502, /^\/api\/v1\/mcp-tools\/\d+\/tools$/]];
    await page.goto(`${base}/projects/${state.project}/mcp-tools`);
    await settled();
    await page.getByRole("button", { name: "New MCP server" }).first().click();
    const dialog = page.getByRole("dialog");
    await dialog.getByLabel("Name").fill("offline");
    await dialog.getByLabel("Transport").selectOption("http");
    await dialog.getByLabel("URL (HTTP)").fill("http://127.0.0.1:9/mcp");
    await dialog.getByLabel("Call timeout (seconds)").fill("5");
    await dialog.getByRole("button", { name: "Create MCP server" }).click();
    await page.getByRole("cell", { name: "offline", exact: true }).waitFor();
    await page.getByRole("button", { name: "Tools of offline" }).click();
    await page
      .getByRole("dialog")
      .locator(".error-note")
      .getByText(/unreachable/i)
      .first()
      .waitFor();
    await shot("mcp-tools-dialog");
    await page.keyboard.press("Escape");
    await page.reload();
    await settled();
    await page
      .getByRole("row", { name: /offline/ })
      .getByText("unreachable")
      .first()
      .waitFor();
  });

  await step("readable at phone width", async () => {
    const phone = await browser.newContext({ viewport: { width: 375, height: 812 }, storageState: await context.storageState() });
    const p = await phone.newPage();
    watch(p);
    try {
      for (const [name, path] of [
        ["phone-dashboard", "/"],
        ["phone-task-board", `/projects/${state.project}/tasks`],
        ["phone-chat", `/chat?session=${state.session}`],
        ["phone-models", "/models"],
      ]) {
        await p.goto(base + path);
        await settled(p);
        const overflow = await p.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
        assert(overflow <= 1, `${path} is wider than the phone by ${overflow}px`);
        await shot(name, p);
      }
      await p.getByRole("button", { name: "Menu" }).click();
      await p.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Projects" }).click();
      await settled(p);
      assert(!(await p.getByRole("navigation", { name: "Main" }).isVisible()), "the menu closes after navigating");
    } finally {
      await phone.close();
    }
  });

  await step("a user who is not an admin gets their own screens, without errors", async () => {
    const r = await stack.api("POST", "/api/v1/add/user", { username: "bob", password: "bob-password-1", role: "user" });
    assert(r.status === 201, `bob created: ${JSON.stringify(r.body)}`);
    const bobContext = await browser.newContext({ viewport: { width: 1280, height: 860 } });
    const p = await bobContext.newPage();
    watch(p);
    expected = [[401, /^\/api\/v1\/me$/]];
    try {
      await p.goto(base + "/");
      await p.getByLabel("Username").fill("bob");
      await p.getByLabel("Password").fill("bob-password-1");
      await p.getByRole("button", { name: "Sign in" }).click();
      await settled(p);
      const nav = await p.getByRole("navigation", { name: "Main" }).textContent();
      assert(!nav.includes("Providers") && !nav.includes("Settings"), "admin screens are not offered");
      for (const path of ["/", "/projects", "/chat", "/keys", "/users", "/models", "/sessions", "/logs", "/providers", "/settings"]) {
        await p.goto(base + path);
        await settled(p);
        if (await p.locator(".error-note").count())
          throw new Error(`${path} shows an error: ${await p.locator(".error-note").first().textContent()}`);
      }
      await p.goto(base + "/projects");
      await settled(p);
      await p.getByText("No projects yet").waitFor();
      await shot("user-projects-empty", p);
    } finally {
      await bobContext.close();
    }
  });

  await step("keyboard: skip link and dialogs", async () => {
    await page.goto(base + "/projects");
    await settled();
    await page.keyboard.press("Tab");
    assert((await page.evaluate(() => document.activeElement?.textContent)) === "Skip to content", "the first Tab reaches the skip link");
    await page.getByRole("button", { name: "New project" }).first().focus();
    await page.keyboard.press("Enter");
    await page.getByRole("dialog").waitFor();
    await page.keyboard.press("Escape");
    await page.getByRole("dialog").waitFor({ state: "detached" });
  });

  await step("log out", async () => {
    expected = [[401, /^\/api\/v1\/me$/]];
    await page.getByRole("button", { name: "Log out" }).click();
    await page.getByRole("button", { name: "Sign in" }).waitFor();
    const me = await page.request.get(base + "/api/v1/me");
    assert(me.status() === 401, `signed out: ${me.status()}`);
  });
} finally {
  await browser.close().catch(() => {});
  stack.stop();
}

const failed = results.filter((r) => !r.ok).length;
console.log(`\nscreenshots in ${out}`);
console.log(`${results.length - failed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
