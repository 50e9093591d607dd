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
import { logIn, pageFacts, run, submit } from "./pages.mjs";

await run({
  sign_up: async ({ args, browser, page, steps, seen }) => {
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
  },
  approve: async ({ args, browser, page, steps, seen }) => {
    await page.goto(args.link);
    seen.confirmed = (await page.textContent("main p")).trim();
    steps.push("confirmed");

    const staff = await browser.newContext({ extraHTTPHeaders: { "Accept-Language": "en" } });
    const admin = await staff.newPage();
    await logIn(admin, args.url, args.admin, args.admin_password);
    await admin.goto(`${args.url}/admin`);
    seen.overview_waiting = (await admin.textContent("ul.waiting a[href='/admin/accounts/pending']")).trim();
    await submit(admin, "nav a[href='/admin/accounts/pending']");
    seen.queue_row = (await admin.textContent("table.approvals tbody tr")).replace(/\s+/g, " ").trim();
    await submit(admin, "table.approvals form[action$='/approve'] button");
    seen.notice = (await admin.textContent(".notice")).trim();
    seen.queue_after = (await admin.textContent("main")).replace(/\s+/g, " ").trim();
    steps.push("approved");

    await logIn(page, args.url, args.login, args.password);
    seen.after_login_url = new URL(page.url()).pathname;
    steps.push("logged_in");
  },
});
