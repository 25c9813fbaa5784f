// The embedded web client in a real Chromium, under the server's real Content-Security-Policy.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { type Browser, chromium } from "playwright-core";
import { assetDir } from "../server/lib/assets.ts";
import { startTestServer, type TestServer } from "./support/server.ts";

const CHROMIUM = "/usr/bin/chromium";
let browser: Browser;
let server: TestServer;

beforeAll(async () => {
  if (!existsSync(CHROMIUM))
    throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium (.ci/run does)`);
  if (!existsSync(`${assetDir("web")}/index.html`))
    throw new Error("web/dist is missing: run npm run build:web (npm test does)");
  server = await startTestServer({ webDir: assetDir("web") });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await server?.cleanup();
});

test("the shell loads, runs its script under the CSP and shows the server's version", async () => {
  const page = await browser.newPage();
  const problems: string[] = [];
  page.on("console", (m) => {
    if (m.type() === "error" || m.text().includes("Content Security Policy"))
      problems.push(m.text());
  });
  page.on("pageerror", (e) => problems.push(e.message));
  await page.goto(`${server.url}/some/deep/link`);
  await page.getByTestId("server-status").waitFor({ timeout: 10_000 });
  expect(await page.getByTestId("server-status").textContent()).toBe(
    "Server online · Parley 0.0.0-test",
  );
  expect(await page.title()).toBe("Parley");
  expect(problems).toEqual([]);
  await page.close();
}, 30_000);

test("the shell says so when the server stops answering", async () => {
  const page = await browser.newPage();
  await page.route("**/health", (route) => route.abort());
  await page.goto(server.url);
  await page.getByRole("alert").waitFor({ timeout: 10_000 });
  expect(await page.getByRole("alert").textContent()).toContain("The server does not answer");
  await page.close();
}, 30_000);
