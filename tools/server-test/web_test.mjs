// The web chat page in Debian's headless chromium, driven by playwright-core: the page loads with no request
// leaving loopback, a message gets a streamed reply, a long reply is stopped, the conversation survives a reload,
// and the layout holds on a phone-sized screen. Usage:
//   node web_test.mjs --url http://127.0.0.1:PORT --model ID [--out DIR]   (screenshots go to DIR)
import { chromium } from "playwright-core";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const arg = (name) => { const i = process.argv.indexOf(name); return i > 0 ? process.argv[i + 1] : undefined; };
const url = arg("--url");
const model = arg("--model");
const out = arg("--out");
const r1url = arg("--r1-url");  // a server with DeepSeek-R1's template: the reply is reasoning
let failed = 0, passed = 0;
const check = (ok, name, detail = "") => {
  if (ok) { passed++; console.log(`ok   ${name}`); } else { failed++; console.log(`FAIL ${name} ${detail}`); }
};

const profile = mkdtempSync(join(tmpdir(), "seek-chromium-"));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  headless: true,
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  viewport: { width: 1100, height: 760 },
  timeout: 60000,
});
try {
  const page = context.pages()[0] ?? await context.newPage();
  page.setDefaultTimeout(20000);
  const errors = [];
  const outside = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  page.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });
  // Nothing may leave the machine: any request not to a local server is refused and recorded.
  await context.route("**/*", (route) => {
    const u = new URL(route.request().url());
    if (u.protocol === "http:" && u.hostname === "127.0.0.1") return route.continue();
    outside.push(u.href);
    return route.abort();
  });

  await page.goto(url + "/");
  await page.waitForFunction((m) => document.getElementById("model").textContent === m, model);
  check(true, "page loads and shows the model");

  // Settings: a short reply first.
  await page.click("#open-settings");
  await page.fill("#set-max-tokens", "24");
  await page.dispatchEvent("#set-max-tokens", "change");
  await page.click("#open-settings");

  await page.fill("#input", "Hello, who are you?");
  await page.keyboard.press("Enter");
  await page.waitForSelector("#stop:not([hidden])");
  const lengths = [];
  const answer = page.locator(".msg.assistant .content").last();
  while (await page.locator("#stop:not([hidden])").count()) {
    lengths.push((await answer.textContent()).length);
    await page.waitForTimeout(40);
  }
  const meta = await page.locator(".msg.assistant .meta").last().textContent();
  const text = await answer.textContent();
  check(text.length > 0 && /24 tokens/.test(meta), "a reply is streamed in", `meta: ${meta}`);
  check(new Set(lengths).size > 2, "the reply grew while streaming", JSON.stringify(lengths.slice(0, 12)));
  check(await page.locator(".msg.user .content").first().textContent() === "Hello, who are you?", "the user message is shown");
  if (out) await page.screenshot({ path: join(out, "web-desktop.png") });

  // A long reply, stopped.
  await page.click("#open-settings");
  await page.fill("#set-max-tokens", "");
  await page.dispatchEvent("#set-max-tokens", "change");
  await page.click("#open-settings");
  await page.fill("#input", "Tell me a long story.");
  await page.click("#send");
  const second = page.locator(".msg.assistant .content").nth(1);
  await page.waitForFunction(() => {
    const c = document.querySelectorAll(".msg.assistant .content")[1];
    return c && c.textContent.length > 5 && c.textContent !== "\u2026";
  });
  await page.click("#stop");
  await page.waitForSelector("#send:not([hidden])");
  const stoppedAt = (await second.textContent()).length;
  await page.waitForTimeout(500);
  const later = (await second.textContent()).length;
  const meta2 = await page.locator(".msg.assistant .meta").nth(1).textContent();
  check(/stopped/.test(meta2) && later === stoppedAt, "the stop button ends the reply", `meta: ${meta2}, ${stoppedAt} -> ${later}`);

  // The conversation is kept in the browser.
  await page.reload();
  await page.waitForSelector(".msg.assistant");
  const titles = await page.locator("#conversations li button.open").allTextContents();
  check(titles.length === 1 && titles[0].startsWith("Hello, who are you"), "the conversation survives a reload",
        JSON.stringify(titles));
  check(await page.locator(".msg").count() === 4, "all four messages are back");

  // A phone-sized screen: the sidebar folds away, the composer stays usable.
  await page.setViewportSize({ width: 390, height: 780 });
  await page.waitForTimeout(400);  // the sidebar slides away (0.2 s transition)
  const sidebarBox = await page.locator("#sidebar").boundingBox();
  const inputBox = await page.locator("#input").boundingBox();
  check(sidebarBox.x + sidebarBox.width <= 1 && inputBox.width > 200, "phone layout: sidebar hidden, input wide",
        JSON.stringify({ sidebarBox, inputBox }));
  await page.click("#open-sidebar");
  await page.waitForTimeout(300);
  const opened = await page.locator("#sidebar").boundingBox();
  check(opened.x >= 0, "phone layout: the sidebar opens");
  if (out) await page.screenshot({ path: join(out, "web-phone-sidebar.png") });
  await page.click("#close-sidebar");
  await page.waitForTimeout(300);
  if (out) await page.screenshot({ path: join(out, "web-phone.png") });

  if (r1url) {
    // R1: the reasoning streams into a collapsible block, apart from the answer.
    const r1 = await context.newPage();
    r1.on("pageerror", (e) => errors.push(String(e)));
    await r1.setViewportSize({ width: 1100, height: 760 });
    await r1.goto(r1url + "/");
    await r1.waitForFunction(() => document.getElementById("model").textContent !== "seek");
    await r1.click("#open-settings");
    await r1.fill("#set-max-tokens", "16");
    await r1.dispatchEvent("#set-max-tokens", "change");
    await r1.click("#open-settings");
    await r1.fill("#input", "Why is the sky blue?");
    await r1.keyboard.press("Enter");
    await r1.waitForFunction(() => document.querySelector(".msg.assistant .meta")?.textContent.includes("tokens"));
    const block = r1.locator(".msg.assistant details.reasoning");
    const reasoning = await block.locator(".text").textContent();
    const open = await block.evaluate((d) => d.open);
    // The block stays open while reasoning streams and folds itself when the answer begins (the random model may
    // close its <think> within the 16 tokens).
    const answered = ((await r1.locator(".msg.assistant .content").first().textContent().catch(() => "")) || "").length > 0;
    check(reasoning.length > 0 && (open || answered) && await block.isVisible(), "R1: reasoning shown in its own block",
          JSON.stringify(reasoning) + (answered ? " (then an answer)" : ""));
    if (out) await r1.screenshot({ path: join(out, "web-reasoning.png") });
    if (!open) await block.locator("summary").click();
    check(await block.evaluate((d) => d.open), "R1: the reasoning block opens");
    await block.locator("summary").click();
    check(!(await block.evaluate((d) => d.open)), "R1: the reasoning block collapses");
    await r1.close();
  }

  check(errors.length === 0, "no errors in the page", errors.join("; "));
  check(outside.length === 0, "no request left the machine", outside.join(", "));
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
