// masto.js drives the newer API surface of a running fedinode.
//
//   node new_api.mjs '<json>'
//
// <json>: {"url": "http://127.0.0.1:PORT", "password": "...", "login": "...",
//          "video": "/path/clip.mp4" or null, "audio": "/path/tone.mp3" or null,
//          "thumbnail": "/path/picture.png", "scheduled_at": "ISO time", "later_at": "ISO time"}
// The account exists already and an admin has added a custom emoji. The script logs in (OAuth
// password grant), uploads the video through /api/v2/media (masto.js polls /api/v1/media/:id
// until the attachment has a url), posts it, uploads an audio file with its own thumbnail,
// schedules a status with a poll, lists, moves
// and cancels it, and reads the custom emojis, the instance rules and domain blocks.
// It prints one JSON object on stdout: what each step saw, or the error that stopped it.

import { readFile } from "node:fs/promises";
import { createOAuthAPIClient, createRestAPIClient } from "masto";

const input = JSON.parse(process.argv[2] ?? "{}");
const url = input.url;
const report = { steps: [] };

function step(name, fields = {}) {
  report.steps.push(name);
  Object.assign(report, fields);
}

async function login(username) {
  const anonymous = createRestAPIClient({ url });
  const app = await anonymous.v1.apps.create({
    clientName: "masto.js new api",
    redirectUris: "urn:ietf:wg:oauth:2.0:oob",
    scopes: "read write",
  });
  const oauth = createOAuthAPIClient({ url });
  const token = await oauth.token.create({
    grantType: "password",
    clientId: app.clientId,
    clientSecret: app.clientSecret,
    username,
    password: input.password,
    scope: "read write",
  });
  return createRestAPIClient({ url, accessToken: token.accessToken, mediaTimeout: 60000 });
}

async function run() {
  const client = await login(input.login);

  if (input.video) {
    const bytes = await readFile(input.video);
    const file = new Blob([bytes], { type: "video/mp4" });
    const media = await client.v2.media.create({ file, description: "test pattern" });
    const posted = await client.v1.statuses.create({ status: "a video", mediaIds: [media.id] });
    step("video", {
      video_type: media.type,
      video_has_url: typeof media.url === "string" && media.url.length > 0,
      video_has_preview: typeof media.previewUrl === "string",
      video_description: media.description,
      video_width: media.meta?.original?.width,
      video_duration: media.meta?.original?.duration,
      video_posted: posted.mediaAttachments.map((m) => m.id).join() === media.id,
    });
  }

  if (input.audio) {
    const file = new Blob([await readFile(input.audio)], { type: "audio/mpeg" });
    const thumbnail = new Blob([await readFile(input.thumbnail)], { type: "image/png" });
    const media = await client.v2.media.create({ file, thumbnail });
    step("audio", { audio_type: media.type, audio_preview_url: media.previewUrl });
  }

  const scheduled = await client.v1.statuses.create({
    status: "later",
    scheduledAt: input.scheduled_at,
    visibility: "unlisted",
    poll: { options: ["yes", "no"], expiresIn: 3600 },
  });
  const listed = await client.v1.scheduledStatuses.list();
  const one = await client.v1.scheduledStatuses.$select(scheduled.id).fetch();
  const moved = await client.v1.scheduledStatuses
    .$select(scheduled.id)
    .update({ scheduledAt: input.later_at });
  await client.v1.scheduledStatuses.$select(scheduled.id).remove();
  const after = await client.v1.scheduledStatuses.list();
  step("scheduled", {
    scheduled_at: scheduled.scheduledAt,
    scheduled_text: scheduled.params?.text,
    scheduled_visibility: scheduled.params?.visibility,
    scheduled_poll: scheduled.params?.poll?.options,
    listed: listed.map((s) => s.id),
    scheduled_id: scheduled.id,
    fetched_text: one.params?.text,
    moved_at: moved.scheduledAt,
    after: after.length,
  });

  const emojis = await client.v1.customEmojis.list();
  step("emojis", {
    emojis: emojis.map((e) => [e.shortcode, e.category, e.visibleInPicker, Boolean(e.staticUrl)]),
  });
  const withEmoji = await client.v1.statuses.create({ status: "hi :blobcat:" });
  step("emoji_status", { status_emojis: withEmoji.emojis.map((e) => e.shortcode) });

  const rules = await client.v1.instance.rules.list();
  const blocks = await client.v1.instance.domainBlocks.fetch();
  step("instance", {
    rules: rules.map((r) => [r.text, r.hint]),
    blocks: blocks.map((b) => [b.domain, b.severity, b.comment, b.digest.length]),
  });
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
