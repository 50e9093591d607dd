// A real browser follows the mailed confirmation link, as a person signing up does: headless
// Chromium (the system's, driven by playwright-core), asking for Persian; it reports what the
// page says and how it is laid out.
// Input: one JSON argument {url, chromium, link}.
// Output: one JSON line {ok, steps, seen} (or {ok: false, error, steps}).
import { chromium } from "playwright-core";

const args = JSON.parse(process.argv[2]);
const steps = [];
const seen = {};

const browser = await chromium.launch({
  executablePath: args.chromium,
  headless: true,
  // Running as root in a container: Chromium's sandbox needs user namespaces it may lack.
  args: ["--no-sandbox", "--disable-dev-shm-usage"],
});
try {
  const context = await browser.newContext({
    locale: "fa-IR",
    extraHTTPHeaders: { "Accept-Language": "fa-IR,fa;q=0.9,en;q=0.5" },
  });
  const page = await context.newPage();
  const response = await page.goto(args.link);
  seen.status = response.status();
  seen.page = await page.evaluate(() => ({
    lang: document.documentElement.lang,
    dir: document.documentElement.dir,
    direction: getComputedStyle(document.body).direction,
    title: document.title,
    text: document.querySelector("main")?.textContent ?? "",
  }));
  steps.push("confirmed");
  console.log(JSON.stringify({ ok: true, steps, seen }));
} catch (error) {
  console.log(JSON.stringify({ ok: false, error: String(error?.stack ?? error), steps, seen }));
  process.exitCode = 1;
} finally {
  await browser.close();
}
