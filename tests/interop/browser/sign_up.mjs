// A real browser signs up on fedinode's own form and an admin approves it in the panel:
// headless Chromium (the system's, driven by playwright-core), the visitor asking for Persian.
//   scenario "sign_up": from the landing page's link to /auth/sign_up, a first try with the
//     two passwords different (the page names the problem and keeps what was typed), then
//     the sign-up itself; reports what the pages say.
//   scenario "approve": the visitor follows the mailed confirmation `link`; the admin
//     (`admin`, `admin_password`) logs in, opens the panel's sign-ups queue from its menu and
//     approves `login`; the visitor then logs in with `password`.
// Input: one JSON argument {scenario, url, chromium, login, email, password, reason, link,
//   admin, admin_password}.
// Output: one JSON line {ok, steps, seen} (or {ok: false, error, steps}).
import { chromium } from "playwright-core";

const args = JSON.parse(process.argv[2]);
const steps = [];
const seen = {};

async function pageFacts(page) {
  return page.evaluate(() => ({
    lang: document.documentElement.lang,
    dir: document.documentElement.dir,
    direction: getComputedStyle(document.body).direction,
    title: document.title,
    heading: document.querySelector("h1")?.textContent ?? "",
  }));
}

// Click what submits a form or follows a link, and wait until the next page has loaded.
async function submit(page, selector) {
  const navigated = page.waitForEvent("framenavigated", (frame) => frame === page.mainFrame());
  await page.click(selector);
  await navigated;
  await page.waitForLoadState("load");
}

async function logIn(page, login, password) {
  await page.goto(`${args.url}/auth/sign_in`);
  await page.fill("#login", login);
  await page.fill("#password", password);
  await submit(page, "form[action='/auth/sign_in'] button[type=submit]");
}

const browser = await chromium.launch({
  executablePath: args.chromium,
  headless: true,
  // Running as root in a container: Chromium's sandbox needs user namespaces it may lack.
  args: ["--no-sandbox", "--disable-dev-shm-usage"],
});
try {
  const visitor = await browser.newContext({
    locale: "fa-IR",
    extraHTTPHeaders: { "Accept-Language": "fa-IR,fa;q=0.9,en;q=0.5" },
  });
  const page = await visitor.newPage();

  if (args.scenario === "sign_up") {
    await page.goto(`${args.url}/`);
    await submit(page, "a[href='/auth/sign_up']");
    seen.form_page = await pageFacts(page);
    seen.form_url = new URL(page.url()).pathname;
    steps.push("form");

    await page.fill("#username", args.login);
    await page.fill("#email", args.email);
    await page.fill("#password", args.password);
    await page.fill("#password_confirmation", `${args.password} typo`);
    await page.fill("#reason", args.reason);
    await page.check("input[name=agreement]");
    await submit(page, "form[action='/auth/sign_up'] button[type=submit]");
    seen.mismatch = (await page.textContent("#password_confirmation-error")).trim();
    seen.kept = {
      username: await page.inputValue("#username"),
      reason: await page.inputValue("#reason"),
      password: await page.inputValue("#password"),
      agreement: await page.isChecked("input[name=agreement]"),
    };
    steps.push("mismatch_shown");

    await page.fill("#password", args.password);
    await page.fill("#password_confirmation", args.password);
    await submit(page, "form[action='/auth/sign_up'] button[type=submit]");
    seen.done_page = await pageFacts(page);
    seen.done = (await page.textContent("main")).trim();
    steps.push("signed_up");
  } else if (args.scenario === "approve") {
    await page.goto(args.link);
    seen.confirmed = (await page.textContent("main p")).trim();
    steps.push("confirmed");

    const staff = await browser.newContext({ extraHTTPHeaders: { "Accept-Language": "en" } });
    const admin = await staff.newPage();
    await logIn(admin, args.admin, args.admin_password);
    await admin.goto(`${args.url}/admin`);
    seen.overview_waiting = (await admin.textContent("ul.waiting a[href='/admin/accounts/pending']")).trim();
    await submit(admin, "nav a[href='/admin/accounts/pending']");
    seen.queue_row = (await admin.textContent("table.approvals tbody tr")).replace(/\s+/g, " ").trim();
    await submit(admin, "table.approvals form[action$='/approve'] button");
    seen.notice = (await admin.textContent(".notice")).trim();
    seen.queue_after = (await admin.textContent("main")).replace(/\s+/g, " ").trim();
    steps.push("approved");

    await logIn(page, args.login, args.password);
    seen.after_login_url = new URL(page.url()).pathname;
    steps.push("logged_in");
  } else {
    throw new Error(`unknown scenario ${args.scenario}`);
  }
  console.log(JSON.stringify({ ok: true, steps, seen }));
} catch (error) {
  console.log(JSON.stringify({ ok: false, error: String(error?.stack ?? error), steps, seen }));
  process.exitCode = 1;
} finally {
  await browser.close();
}
