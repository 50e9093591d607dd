// A real browser uses fedinode's pages: headless Chromium (the system's own, driven by
// playwright-core), asking for Persian.
//   scenario "change": log in on /auth/sign_in, change the password on /settings, log out,
//     find the old password refused and the new one working;
//   scenario "reset_request": ask /auth/password/reset for a link sent to `email`;
//   scenario "reset_finish": open the mailed `link`, set `new_password`, log in with it.
// Input: one JSON argument {scenario, url, chromium, login, password, new_password, email, link}.
// Output: one JSON line {ok, steps, seen} (or {ok: false, error, steps}).
import { logIn, pageFacts, run, submit } from "./pages.mjs";

await run({
  change: async ({ args, browser, page, steps, seen }) => {
    await page.goto(`${args.url}/auth/sign_in`);
    seen.login_page = await pageFacts(page);
    seen.login_label = (await page.textContent("label[for=login]")).trim();
    steps.push("login_page");

    await logIn(page, args.url, args.login, args.password);
    seen.after_login_url = new URL(page.url()).pathname;
    seen.settings_page = await pageFacts(page);
    steps.push("logged_in");

    await page.fill("#current_password", args.password);
    await page.fill("#new_password", args.new_password);
    await page.fill("#confirm_password", args.new_password);
    await submit(page, "form[action='/settings/password'] button[type=submit]");
    seen.notice = (await page.textContent(".notice")).trim();
    steps.push("password_changed");

    await submit(page, "form[action='/auth/sign_out'] button");
    seen.after_logout_url = new URL(page.url()).pathname;
    steps.push("logged_out");

    await logIn(page, args.url, args.login, args.password);
    seen.old_password_error = ((await page.textContent(".error")) ?? "").trim();
    steps.push("old_password_refused");

    await logIn(page, args.url, args.login, args.new_password);
    seen.new_password_url = new URL(page.url()).pathname;
    steps.push("new_password_works");
  },
  reset_request: async ({ args, browser, page, steps, seen }) => {
    await page.goto(`${args.url}/auth/sign_in`);
    await submit(page, "a[href='/auth/password/reset']");
    seen.reset_page = await pageFacts(page);
    await page.fill("#email", args.email);
    await submit(page, "form[action='/auth/password/reset'] button");
    seen.reset_sent = (await page.textContent("main p")).trim();
    steps.push("reset_requested");
  },
  reset_finish: async ({ args, browser, page, steps, seen }) => {
    await page.goto(args.link);
    seen.edit_page = await pageFacts(page);
    await page.fill("#password", args.new_password);
    await submit(page, "form[action='/auth/password/edit'] button");
    seen.reset_done = (await page.textContent("main p")).trim();
    steps.push("password_reset");
    await logIn(page, args.url, args.login, args.new_password);
    seen.after_reset_login_url = new URL(page.url()).pathname;
    steps.push("logged_in_after_reset");
  },
});
