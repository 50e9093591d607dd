// A Fedify server on loopback, used as an independent peer by tests/interop/test_fedify.py.
//
// It serves one actor ("alice", RSA key for HTTP signatures, Ed25519 key for Object
// Integrity Proofs) with Fedify's own routing, WebFinger, signature checks and JSON-LD
// parsing, records every activity that reaches its inbox, and takes commands from the test
// over HTTP on /_control/* (JSON in, JSON out). It prints "READY <port>" once listening.
//
// Options (environment): FEDIFY_PEER_HTTP_ORIGINS — comma-separated host:port list that
// are plain-http servers (Fedify resolves acct: handles over https only; requests to these
// origins are rewritten to http). FEDIFY_PEER_REJECT_CAVAGE=1 — answer 401 to inbox POSTs
// not signed with RFC 9421, before Fedify sees them (forces the sender's double-knock).
import { AsyncLocalStorage } from "node:async_hooks";
import http from "node:http";
import {
  createFederation,
  generateCryptoKeyPair,
  MemoryKvStore,
  parseNodeInfo,
  signObject,
  signRequest,
} from "@fedify/fedify";
import { lookupWebFinger } from "@fedify/webfinger";
import {
  Accept,
  Activity,
  Announce,
  Create,
  Delete,
  Endpoints,
  Follow,
  Like,
  Mention,
  Note,
  Person,
  PUBLIC_COLLECTION,
  Tombstone,
  Undo,
  Update,
} from "@fedify/vocab";
import { Temporal } from "@js-temporal/polyfill";
import { configure, getStreamSink } from "@logtape/logtape";
import jsonld from "jsonld";

const httpOrigins = new Set(
  (process.env.FEDIFY_PEER_HTTP_ORIGINS ?? "").split(",").filter((s) => s),
);
const rejectCavage = process.env.FEDIFY_PEER_REJECT_CAVAGE === "1";

// Fedify looks up acct: handles with https; the fedinode under test serves plain http.
const realFetch = globalThis.fetch;
globalThis.fetch = (input, init) => {
  const request = input instanceof Request ? input : new Request(input, init);
  const url = new URL(request.url);
  if (url.protocol === "https:" && httpOrigins.has(url.host)) {
    url.protocol = "http:";
    return realFetch(new Request(url, request), input instanceof Request ? undefined : init);
  }
  return realFetch(input, init);
};

// Fedify's own complaints (warnings and worse; FEDIFY_PEER_LOG=debug for everything) go to
// stderr, which the test keeps and shows when it fails.
await configure({
  contextLocalStorage: new AsyncLocalStorage(),
  sinks: {
    stderr: getStreamSink(new WritableStream({ write: (chunk) => process.stderr.write(chunk) })),
  },
  loggers: [
    { category: "fedify", lowestLevel: process.env.FEDIFY_PEER_LOG ?? "warning", sinks: ["stderr"] },
    { category: ["logtape", "meta"], lowestLevel: "warning", sinks: ["stderr"] },
  ],
});

const rsa = await generateCryptoKeyPair("RSASSA-PKCS1-v1_5");
const ed = await generateCryptoKeyPair("Ed25519");
// "relay" is a second actor here that only forwards alice's activities (HTTP-signed by
// itself, not by alice): the receiver must trust them on alice's Object Integrity Proof.
const relayRsa = await generateCryptoKeyPair("RSASSA-PKCS1-v1_5");
const received = []; // activities delivered to alice's inbox, as Fedify parsed them
const knocks = []; // every POST to an inbox: which spec, and what was answered
const bodies = []; // the JSON of every POST to an inbox
const followers = new Map(); // actor id → actor (as Fedify parsed it)
const notes = new Map(); // note id → Note
let counter = 0;

const federation = createFederation({
  kv: new MemoryKvStore(),
  allowPrivateAddress: true,
});

federation
  .setActorDispatcher("/users/{identifier}", async (ctx, identifier) => {
    if (identifier !== "alice" && identifier !== "relay") return null;
    const keys = await ctx.getActorKeyPairs(identifier);
    return new Person({
      id: ctx.getActorUri(identifier),
      preferredUsername: identifier,
      name: identifier === "alice" ? "Alice of Fedify" : "Relay of Fedify",
      summary: "An independent ActivityPub implementation",
      url: ctx.getActorUri(identifier),
      inbox: ctx.getInboxUri(identifier),
      outbox: ctx.getOutboxUri(identifier),
      followers: ctx.getFollowersUri(identifier),
      endpoints: new Endpoints({ sharedInbox: ctx.getInboxUri() }),
      publicKey: keys[0].cryptographicKey,
      assertionMethods: keys.map((k) => k.multikey),
    });
  })
  .mapHandle((_ctx, username) => (username === "alice" || username === "relay" ? username : null))
  .setKeyPairsDispatcher(async (_ctx, identifier) =>
    identifier === "alice" ? [rsa, ed] : identifier === "relay" ? [relayRsa] : []
  );

federation.setOutboxDispatcher("/users/{identifier}/outbox", async () => ({ items: [] }));
federation.setFollowersDispatcher("/users/{identifier}/followers", async () => ({
  items: [...followers.keys()].map((id) => new URL(id)),
}));
// Notes are served only to signed requests whose key owner Fedify can fetch and check
// (what Mastodon calls authorized fetch); `fetches` records who got them.
const fetches = [];
federation
  .setObjectDispatcher(Note, "/notes/{id}", async (ctx, { id }) =>
    notes.get(ctx.getObjectUri(Note, { id }).href) ?? null
  )
  .authorize(async (ctx) => {
    const owner = await ctx.getSignedKeyOwner();
    fetches.push({ url: ctx.url.href, owner: owner?.id?.href ?? null });
    return owner != null;
  });

async function record(ctx, activity) {
  const json = await activity.toJsonLd({ contextLoader: ctx.contextLoader });
  // Our own notes are read from memory: they are served to signed fetches only.
  let object = activity.objectId != null ? (notes.get(activity.objectId.href) ?? null) : null;
  try {
    object ??= await activity.getObject?.({ documentLoader: ctx.documentLoader });
  } catch (error) {
    object = { error: String(error) };
  }
  const tags = [];
  const options = [];
  if (object != null && !object.error) {
    for await (const tag of object.getTags?.({ documentLoader: ctx.documentLoader }) ?? []) {
      const tagJson = await tag.toJsonLd();
      tags.push({ type: tagJson.type, name: tag.name?.toString() ?? null, href: tag.href?.href ?? null });
    }
    for await (const option of object.getExclusiveOptions?.({ documentLoader: ctx.documentLoader }) ?? []) {
      options.push(option.name?.toString() ?? null);
    }
  }
  received.push({
    tags,
    options,
    type: json.type,
    id: activity.id?.href ?? null,
    actor: activity.actorId?.href ?? null,
    object_id: object?.id?.href ?? activity.objectId?.href ?? null,
    object_type: object && !object.error ? (await object.toJsonLd()).type : null,
    content: object?.content?.toString() ?? null,
    json,
  });
}

federation
  .setInboxListeners("/users/{identifier}/inbox", "/inbox")
  .on(Follow, async (ctx, follow) => {
    await record(ctx, follow);
    const follower = await follow.getActor(ctx);
    if (follower?.id == null || follower.inboxId == null) return;
    followers.set(follower.id.href, follower);
    await ctx.sendActivity(
      { identifier: "alice" },
      follower,
      new Accept({
        id: new URL(`#accepts/${++counter}`, ctx.getActorUri("alice")),
        actor: ctx.getActorUri("alice"),
        object: follow,
      }),
    );
  })
  .on(Activity, record)
  .onError((_ctx, error) => {
    received.push({ type: "error", error: String(error?.stack ?? error) });
  });

// -- control commands ---------------------------------------------------------------------

let origin = "";
const context = () => federation.createContext(new URL(origin), undefined);
const alice = () => context().getActorUri("alice");
const nextId = (kind) => new URL(`/activities/${kind}-${++counter}`, origin);

async function resolveActor(ctx, handle) {
  const actor = await ctx.lookupObject(handle);
  if (actor == null) throw new Error(`lookupObject(${handle}) found nothing`);
  return actor;
}

function newNote(ctx, { text, to, inReplyTo }) {
  const id = ctx.getObjectUri(Note, { id: `n${++counter}` });
  const mention = to ? [new Mention({ href: new URL(to), name: "mention" })] : [];
  const note = new Note({
    id,
    attribution: alice(),
    content: `<p>${text}</p>`,
    to: PUBLIC_COLLECTION,
    ccs: [ctx.getFollowersUri("alice"), ...(to ? [new URL(to)] : [])],
    replyTarget: inReplyTo ? new URL(inReplyTo) : null,
    tags: mention,
    published: Temporal.Now.instant(),
    url: id,
  });
  notes.set(id.href, note);
  return note;
}

async function recipientsOf(ctx, handle) {
  const actors = [];
  for (const actor of followers.values()) actors.push(actor);
  if (handle) {
    const actor = await resolveActor(ctx, handle);
    if (!actors.some((a) => a.id.href === actor.id.href)) actors.push(actor);
  }
  return actors;
}

const sent = new Map(); // our activity id → activity (for Undo)

const commands = {
  async lookup(ctx, { handle }) {
    const actor = await resolveActor(ctx, handle);
    const json = await actor.toJsonLd();
    return {
      id: actor.id?.href,
      type: json.type,
      preferredUsername: actor.preferredUsername?.toString(),
      inbox: actor.inboxId?.href,
      sharedInbox: actor.endpoints?.sharedInbox?.href ?? null,
      publicKey: (await actor.getPublicKey())?.id?.href ?? null,
      json,
    };
  },
  async follow(ctx, { handle }) {
    const actor = await resolveActor(ctx, handle);
    const follow = new Follow({ id: nextId("follow"), actor: alice(), object: actor.id });
    sent.set(follow.id.href, follow);
    await ctx.sendActivity({ identifier: "alice" }, actor, follow);
    return { id: follow.id.href, target: actor.id.href };
  },
  async create(ctx, { text, to, handle, inReplyTo }) {
    const note = newNote(ctx, { text, to, inReplyTo });
    const create = new Create({
      id: nextId("create"),
      actor: alice(),
      object: note,
      to: PUBLIC_COLLECTION,
      ccs: note.ccIds,
      published: note.published,
    });
    await ctx.sendActivity({ identifier: "alice" }, await recipientsOf(ctx, handle), create, {
      preferSharedInbox: true,
    });
    return { id: create.id.href, note: note.id.href };
  },
  // A public note that is not delivered: a peer finds it only by fetching it (signed).
  async draft(ctx, { text }) {
    const note = newNote(ctx, { text });
    return { note: note.id.href };
  },
  async update(ctx, { note: noteId, text, handle }) {
    const old = notes.get(noteId);
    const note = old.clone({ content: `<p>${text}</p>`, updated: Temporal.Now.instant() });
    notes.set(noteId, note);
    const update = new Update({
      id: nextId("update"),
      actor: alice(),
      object: note,
      to: PUBLIC_COLLECTION,
      ccs: note.ccIds,
    });
    await ctx.sendActivity({ identifier: "alice" }, await recipientsOf(ctx, handle), update);
    return { id: update.id.href };
  },
  async delete(ctx, { note: noteId, handle }) {
    notes.delete(noteId);
    const del = new Delete({
      id: nextId("delete"),
      actor: alice(),
      object: new Tombstone({ id: new URL(noteId) }),
      to: PUBLIC_COLLECTION,
      ccs: [ctx.getFollowersUri("alice")],
    });
    await ctx.sendActivity({ identifier: "alice" }, await recipientsOf(ctx, handle), del);
    return { id: del.id.href };
  },
  // alice leaves: Delete(Person) to her followers (and `handle`).
  async deleteSelf(ctx, { handle }) {
    const del = new Delete({
      id: nextId("delete-actor"),
      actor: alice(),
      object: alice(),
      to: PUBLIC_COLLECTION,
    });
    await ctx.sendActivity({ identifier: "alice" }, await recipientsOf(ctx, handle), del);
    return { id: del.id.href };
  },
  async like(ctx, { object, handle }) {
    const like = new Like({ id: nextId("like"), actor: alice(), object: new URL(object) });
    sent.set(like.id.href, like);
    await ctx.sendActivity({ identifier: "alice" }, await recipientsOf(ctx, handle), like);
    return { id: like.id.href };
  },
  async announce(ctx, { object, handle }) {
    const announce = new Announce({
      id: nextId("announce"),
      actor: alice(),
      object: new URL(object),
      to: PUBLIC_COLLECTION,
      ccs: [ctx.getFollowersUri("alice")],
      published: Temporal.Now.instant(),
    });
    sent.set(announce.id.href, announce);
    await ctx.sendActivity({ identifier: "alice" }, await recipientsOf(ctx, handle), announce);
    return { id: announce.id.href };
  },
  async undo(ctx, { activity, handle }) {
    const original = sent.get(activity);
    const undo = new Undo({ id: nextId("undo"), actor: alice(), object: original });
    await ctx.sendActivity({ identifier: "alice" }, await recipientsOf(ctx, handle), undo);
    return { id: undo.id.href };
  },
  // A reply POSTed by hand, signed with Fedify's signRequest in the given spec
  // ("draft-cavage-http-signatures-12" or "rfc9421"), to the inbox of `handle`.
  async reply(ctx, { text, inReplyTo, handle, spec }) {
    const actor = await resolveActor(ctx, handle);
    const note = newNote(ctx, { text, to: actor.id.href, inReplyTo });
    const create = new Create({
      id: nextId("reply"),
      actor: alice(),
      object: note,
      to: PUBLIC_COLLECTION,
      ccs: note.ccIds,
    });
    const body = JSON.stringify(await create.toJsonLd({ contextLoader: ctx.contextLoader }));
    const request = new Request(actor.inboxId, {
      method: "POST",
      headers: { "Content-Type": "application/activity+json", Accept: "application/activity+json" },
      body,
    });
    const signed = await signRequest(request, rsa.privateKey, new URL("#main-key", alice()), {
      spec,
    });
    const response = await realFetch(signed);
    return {
      id: create.id.href,
      note: note.id.href,
      status: response.status,
      answer: await response.text(),
      signatureInput: signed.headers.get("Signature-Input"),
    };
  },
  // alice's reply carrying her Object Integrity Proof (FEP-8b32, eddsa-jcs-2022, made by
  // Fedify's signObject), POSTed by "relay" under relay's own HTTP signature: a forward.
  async forwardedReply(ctx, { text, inReplyTo, handle, tamper }) {
    const actor = await resolveActor(ctx, handle);
    const note = newNote(ctx, { text, to: actor.id.href, inReplyTo });
    const create = new Create({
      id: nextId("forwarded"),
      actor: alice(),
      object: note,
      to: PUBLIC_COLLECTION,
      ccs: note.ccIds,
    });
    const aliceKeys = await ctx.getActorKeyPairs("alice");
    const proved = await signObject(create, ed.privateKey, aliceKeys[1].keyId, {
      contextLoader: ctx.contextLoader,
    });
    const json = await proved.toJsonLd({ format: "compact", contextLoader: ctx.contextLoader });
    if (tamper) json.object.content = "<p>not what alice wrote</p>";
    const request = new Request(actor.inboxId, {
      method: "POST",
      headers: { "Content-Type": "application/activity+json", Accept: "application/activity+json" },
      body: JSON.stringify(json),
    });
    const relayKey = new URL("#main-key", ctx.getActorUri("relay"));
    const signed = await signRequest(request, relayRsa.privateKey, relayKey);
    const response = await realFetch(signed);
    return {
      id: create.id.href,
      note: note.id.href,
      status: response.status,
      answer: await response.text(),
      proof: json.proof ?? null,
    };
  },
  // Fedify's strict readers on fedinode's public documents: an object by URI (and, for an
  // actor, its outbox and followers collections walked), WebFinger by URL, NodeInfo.
  async inspect(ctx, { uri, collections }) {
    const object = await ctx.lookupObject(uri);
    if (object == null) throw new Error(`lookupObject(${uri}) found nothing`);
    const json = await object.toJsonLd();
    const walked = {};
    for (const name of collections ?? []) {
      const getter = {
        outbox: "getOutbox", followers: "getFollowers", following: "getFollowing",
        featured: "getFeatured", featuredTags: "getFeaturedTags",
      }[name];
      const collection = await object[getter]({ documentLoader: ctx.documentLoader });
      if (collection == null) throw new Error(`${name} of ${uri} did not parse`);
      const items = [];
      for await (const item of ctx.traverseCollection(collection)) {
        items.push(item instanceof URL ? item.href : item.id?.href ?? null);
      }
      walked[name] = { totalItems: collection.totalItems ?? null, items };
    }
    return { type: json.type, json, walked };
  },
  async webfinger(_ctx, { resource }) {
    const jrd = await lookupWebFinger(resource, { allowPrivateAddress: true });
    if (jrd == null) throw new Error(`WebFinger for ${resource} found nothing`);
    return jrd;
  },
  // getNodeInfo() refuses loopback addresses whatever the options, so the two fetches
  // are made here; the document is read by Fedify's strict parser.
  async nodeinfo(_ctx, { url }) {
    const wellKnown = await (await realFetch(new URL("/.well-known/nodeinfo", url))).json();
    const link = wellKnown.links.find((l) =>
      /^http:\/\/nodeinfo\.diaspora\.software\/ns\/schema\/2\.[01]$/.test(l.rel)
    );
    if (link == null) throw new Error(`no NodeInfo 2.x link: ${JSON.stringify(wellKnown)}`);
    const raw = await (await realFetch(link.href, { headers: { Accept: "application/json" } })).json();
    const info = parseNodeInfo(raw);
    if (info == null) throw new Error(`NodeInfo did not parse strictly: ${JSON.stringify(raw)}`);
    return {
      software: info.software.name,
      version: String(info.software.version),
      protocols: info.protocols,
      openRegistrations: info.openRegistrations,
      users: info.usage.users,
    };
  },
  // Strict JSON-LD: expand in jsonld.js's safe mode, which fails on anything the
  // expansion would drop (undefined terms, bad @id values, wrong value shapes).
  // `uri`: a document fetched as ActivityPub JSON; otherwise every body POSTed to our inbox.
  async expand(ctx, { uri }) {
    const documents = [];
    if (uri) {
      const response = await realFetch(uri, { headers: { Accept: "application/activity+json" } });
      documents.push({ source: uri, doc: await response.json() });
    } else {
      for (const [i, body] of bodies.entries()) documents.push({ source: `inbox POST ${i}`, doc: body });
    }
    const problems = [];
    for (const { source, doc } of documents) {
      try {
        await jsonld.expand(doc, { documentLoader: ctx.contextLoader, safe: true });
      } catch (error) {
        problems.push({
          source,
          error: String(error?.message ?? error),
          details: JSON.stringify(error?.details ?? null).slice(0, 1500),
          type: doc?.type ?? null,
        });
      }
    }
    return { checked: documents.length, problems };
  },
  async received() {
    return { received, knocks, fetches };
  },
};

// -- HTTP ---------------------------------------------------------------------------------

async function readBody(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return Buffer.concat(chunks);
}

async function send(res, response) {
  const headers = {};
  response.headers.forEach((value, name) => {
    headers[name] = value;
  });
  res.writeHead(response.status, headers);
  res.end(Buffer.from(await response.arrayBuffer()));
}

const server = http.createServer(async (req, res) => {
  try {
    const body = await readBody(req);
    const url = new URL(req.url, origin);
    if (url.pathname.startsWith("/_control/")) {
      const command = commands[url.pathname.slice("/_control/".length)];
      if (command == null) return send(res, Response.json({ error: "no such command" }, { status: 404 }));
      try {
        const args = body.length ? JSON.parse(body.toString("utf8")) : {};
        return send(res, Response.json(await command(context(), args)));
      } catch (error) {
        return send(res, Response.json({ error: String(error?.stack ?? error) }, { status: 500 }));
      }
    }
    if (req.method === "GET" && sent.has(url.href)) {
      const json = await sent.get(url.href).toJsonLd({ contextLoader: context().contextLoader });
      return send(res, Response.json(json, { headers: { "Content-Type": "application/activity+json" } }));
    }
    const headers = new Headers();
    for (const [name, value] of Object.entries(req.headers)) {
      for (const item of Array.isArray(value) ? value : [value]) headers.append(name, item);
    }
    const isInboxPost = req.method === "POST" && url.pathname.endsWith("/inbox");
    const spec = headers.has("Signature-Input")
      ? "rfc9421"
      : headers.has("Signature") ? "draft-cavage" : "unsigned";
    let response;
    if (isInboxPost && rejectCavage && spec !== "rfc9421") {
      response = Response.json({ error: "RFC 9421 signatures only" }, { status: 401 });
    } else {
      const request = new Request(url, {
        method: req.method,
        headers,
        body: req.method === "GET" || req.method === "HEAD" ? undefined : body,
      });
      response = await federation.fetch(request, { contextData: undefined });
    }
    if (req.method === "GET" && url.pathname.startsWith("/notes/")) {
      knocks.push({ path: url.pathname, spec, status: response.status, type: "GET" });
    }
    if (isInboxPost) {
      let type = null;
      try {
        const parsed = JSON.parse(body.toString("utf8"));
        type = parsed.type ?? null;
        bodies.push(parsed);
      } catch {
        // not JSON: Fedify answered it
      }
      knocks.push({ path: url.pathname, spec, status: response.status, type });
    }
    return send(res, response);
  } catch (error) {
    res.writeHead(500, { "Content-Type": "text/plain" });
    res.end(String(error?.stack ?? error));
  }
});

server.listen(0, "127.0.0.1", () => {
  origin = `http://127.0.0.1:${server.address().port}`;
  process.stdout.write(`READY ${server.address().port}\n`);
});
process.stdin.on("end", () => process.exit(0)); // the test closed our stdin: stop
process.stdin.resume();
