// What the browser scripts share: a headless Chromium (the system's, driven by
// playwright-core) with a visitor asking for Persian, the page facts they report, form
// submission and logging in, and the one-JSON-line report the Python side reads.
import { chromium } from "playwright-core";

export async function pageFacts(page) {
  return page.evaluate(() => ({
    lang: document.documentElement.lang,
    dir: document.documentElement.dir,
    direction: getComputedStyle(document.body).direction,
    title: document.title,
    heading: document.querySelector("h1")?.textContent ?? "",
  }));
}

// Click what submits a form or follows a link, and wait until the next page has loaded.
export async function submit(page, selector) {
  const navigated = page.waitForEvent("framenavigated", (frame) => frame === page.mainFrame());
  await page.click(selector);
  await navigated;
  await page.waitForLoadState("load");
}

export async function logIn(page, url, login, password) {
  await page.goto(`${url}/auth/sign_in`);
  await page.fill("#login", login);
  await page.fill("#password", password);
  await submit(page, "form[action='/auth/sign_in'] button[type=submit]");
}

// Runs `scenarios[args.scenario]` (args: the JSON of the first argument) with
// {args, browser, page, steps, seen}, then prints {ok, steps, seen} (or {ok: false, error,
// steps, seen}) as one JSON line.
export async function run(scenarios) {
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
    const scenario = scenarios[args.scenario ?? "default"];
    if (scenario === undefined) throw new Error(`unknown scenario ${args.scenario}`);
    const visitor = await browser.newContext({
      locale: "fa-IR",
      extraHTTPHeaders: { "Accept-Language": "fa-IR,fa;q=0.9,en;q=0.5" },
    });
    const page = await visitor.newPage();
    await scenario({ args, browser, page, steps, seen });
    console.log(JSON.stringify({ ok: true, steps, seen }));
  } catch (error) {
    console.log(JSON.stringify({ ok: false, error: String(error?.stack ?? error), steps, seen }));
    process.exitCode = 1;
  } finally {
    await browser.close();
  }
}
