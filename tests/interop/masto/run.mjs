// masto.js (an independent Mastodon client library) drives a running fedinode.
//
//   node run.mjs '<json>'
//
// <json>: {"url": "http://127.0.0.1:PORT", "password": "...", "wait_ms": 10000,
//          "follower": "login", "followed": "login", "later": "login"}
// The three local accounts exist already (logins are emails or usernames). The script
// registers an app and logs each account in with the OAuth password grant, verifies
// credentials, makes the follower follow `followed`, opens the follower's `user` stream over
// a WebSocket (the `ws` package: Node 20 has no WebSocket of its own), posts as the follower,
// has `followed` post, then follows `later` while the stream is open and has `later` post,
// waiting each time for the `update` event; last it reads the home timeline.
// It prints one JSON object on stdout: what each step saw, or the error that stopped it.

import { createOAuthAPIClient, createRestAPIClient, createStreamingAPIClient } from "masto";
import WebSocket from "ws";

const input = JSON.parse(process.argv[2] ?? "{}");
const url = input.url;
const waitMs = input.wait_ms ?? 10000;
const report = { steps: [] };

function step(name, fields = {}) {
  report.steps.push(name);
  Object.assign(report, fields);
}

function withTimeout(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timeout: no ${what} within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

async function login(app, username) {
  const oauth = createOAuthAPIClient({ url });
  const token = await oauth.token.create({
    grantType: "password",
    clientId: app.clientId,
    clientSecret: app.clientSecret,
    username,
    password: input.password,
    scope: "read write follow",
  });
  const client = createRestAPIClient({ url, accessToken: token.accessToken });
  const account = await client.v1.accounts.verifyCredentials();
  return { client, account, token: token.accessToken };
}

// Every event of one subscription, kept in order; waitFor() resolves on the first match.
function collect(subscription) {
  const events = [];
  let wake = () => {};
  let failure = null;
  (async () => {
    try {
      for await (const event of subscription) {
        events.push(event);
        wake();
      }
    } catch (error) {
      failure = error;
      wake();
    }
  })();
  async function waitFor(test, what, ms = waitMs) {
    const search = async () => {
      for (;;) {
        const found = events.find(test);
        if (found) return found;
        if (failure) throw failure;
        await new Promise((resolve) => {
          wake = resolve;
        });
      }
    };
    return withTimeout(search(), ms, what);
  }
  return { events, waitFor };
}

const isUpdateOf = (status) => (e) => e.event === "update" && e.payload.id === status.id;

async function run() {
  const anonymous = createRestAPIClient({ url });
  const instance = await anonymous.v2.instance.fetch();
  const streamingApiUrl = input.streaming_url ?? instance.configuration.urls.streaming;
  step("instance", { streaming_url: streamingApiUrl, version: instance.version });

  const app = await anonymous.v1.apps.create({
    clientName: "masto.js interop",
    redirectUris: "urn:ietf:wg:oauth:2.0:oob",
    scopes: "read write follow",
  });
  const follower = await login(app, input.follower);
  const followed = await login(app, input.followed);
  const later = await login(app, input.later);
  step("verify_credentials", {
    accts: [follower.account.acct, followed.account.acct, later.account.acct],
  });

  const target = await follower.client.v1.accounts.lookup({ acct: followed.account.acct });
  const relationship = await follower.client.v1.accounts.$select(target.id).follow();
  step("follow", { following: relationship.following });

  // Right after the follow: the stream opens (masto waits a second before it connects;
  // prepare() resolves once the WebSocket is open) and subscribes to `user`.
  const streaming = createStreamingAPIClient({
    streamingApiUrl,
    accessToken: follower.token,
    implementation: WebSocket,
    retry: 1,
  });
  let events = [];
  try {
    await withTimeout(streaming.prepare(), waitMs, "open WebSocket");
    const stream = collect(streaming.user.subscribe());
    events = stream.events;
    step("stream_open");
    // Mastodon acknowledges no subscribe message; the update for the follower's own post
    // shows that the subscription is in place (a post made before the server has read the
    // subscribe message is not streamed, so a few tries are allowed).
    let own;
    for (let probe = 1; ; probe++) {
      own = await follower.client.v1.statuses.create({ status: `my own post ${probe}` });
      try {
        await stream.waitFor(isUpdateOf(own), "update for the follower's own post", 2000);
        step("own_update", { own_probes: probe });
        break;
      } catch (error) {
        if (probe === 3) throw error;
      }
    }

    let started = Date.now();
    const post = await followed.client.v1.statuses.create({ status: "from the followed account" });
    const seen = await stream.waitFor(isUpdateOf(post), "update for the followed account's post");
    step("followed_update", {
      followed_update_ms: Date.now() - started,
      followed_update_acct: seen.payload.account.acct,
      followed_update_content: seen.payload.content,
    });

    const laterRel = await follower.client.v1.accounts.$select(later.account.id).follow();
    started = Date.now();
    const laterPost = await later.client.v1.statuses.create({ status: "followed while streaming" });
    const laterSeen = await stream.waitFor(
      isUpdateOf(laterPost),
      "update for the post of an account followed while the stream was open",
    );
    step("later_update", {
      later_following: laterRel.following,
      later_update_ms: Date.now() - started,
      later_update_acct: laterSeen.payload.account.acct,
    });

    const home = await follower.client.v1.timelines.home.list({ limit: 10 });
    step("home", {
      home_has_all: [post, laterPost, own].every((s) => home.some((h) => h.id === s.id)),
    });
  } finally {
    report.events = events.map((e) => e.event);
    streaming.close();
  }
}

let exitCode = 0;
try {
  await run();
  report.ok = true;
} catch (error) {
  report.ok = false;
  report.error = String(error?.stack ?? error);
  exitCode = 1;
}
process.stdout.write(JSON.stringify(report) + "\n");
process.exit(exitCode);
