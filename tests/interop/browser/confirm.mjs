// A real browser follows the mailed confirmation link, as a person signing up does: headless
// Chromium, asking for Persian; it reports what the page says and how it is laid out.
// Input: one JSON argument {url, chromium, link}.
// Output: one JSON line {ok, steps, seen} (or {ok: false, error, steps}).
import { run } from "./pages.mjs";

await run({
  default: async ({ args, page, steps, seen }) => {
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
  },
});
