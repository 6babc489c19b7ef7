// A whole author journey with LangGraph's JavaScript client (@langchain/langgraph-sdk)
// against `satya serve`: upload, the upload gate answered, a dropped stream picked up
// again with Last-Event-ID, a price edit and the listing gate answered; then a stateless
// run joined by its id alone.
// Env: SATYA_URL, SATYA_KEY, MODEL_PATH. Prints one JSON line with what it saw.
"use strict";
const assert = require("node:assert/strict");
const fs = require("node:fs");
const path = require("node:path");
const { Client } = require("@langchain/langgraph-sdk");

const url = process.env.SATYA_URL;
const key = process.env.SATYA_KEY;
const modelPath = process.env.MODEL_PATH;
const MODES = ["custom", "values", "updates"];

const texts = (parts) =>
  parts.filter((p) => p.event === "custom" && p.data.type === "text").map((p) => p.data.kind);
const gateOf = (parts) => {
  const u = parts.find((p) => p.event === "updates" && p.data.__interrupt__);
  return u ? u.data.__interrupt__[0].value.gate : null;
};
async function collect(iterable) {
  const out = [];
  for await (const part of iterable) out.push(part);
  return out;
}

async function main() {
  const client = new Client({ apiUrl: url, apiKey: key });

  // the model file, sent as the page would: multipart POST /uploads with the same key
  const form = new FormData();
  form.append("file", new Blob([fs.readFileSync(modelPath)]), path.basename(modelPath));
  const r = await fetch(`${url}/uploads`, { method: "POST", body: form, headers: { "x-api-key": key } });
  assert.equal(r.status, 201, await r.clone().text());
  const upload = await r.json();

  const thread = await client.threads.create({ metadata: { from: "js-sdk" } });
  const tid = thread.thread_id;
  assert.equal(thread.status, "idle");

  // 1. upload request: ends at the upload gate
  const first = await collect(
    client.runs.stream(tid, "satya", {
      input: { message: "upload", upload_id: upload.upload_id },
      streamMode: MODES,
    }),
  );
  assert.equal(first[0].event, "metadata");
  assert.equal(gateOf(first), "upload");
  assert.equal((await client.threads.get(tid)).status, "interrupted");
  const state = await client.threads.getState(tid);
  assert.ok(state.tasks.length >= 0 && state.checkpoint.thread_id === tid);

  // 2. answer it; the stream drops after a few events and is picked up with Last-Event-ID
  const controller = new AbortController();
  let runId = null;
  const head = [];
  for await (const part of client.runs.stream(tid, "satya", {
    command: { resume: true },
    streamMode: MODES,
    signal: controller.signal,
    onRunCreated: (meta) => { runId = meta.run_id; },
  })) {
    head.push(part);
    if (head.length === 3) { controller.abort(); break; }
  }
  assert.ok(runId, "the run id comes in Content-Location");
  const lastId = head[head.length - 1].id;
  assert.equal(lastId, "3");
  const rest = await collect(client.runs.joinStream(tid, runId, { lastEventId: lastId }));
  const whole = await collect(client.runs.joinStream(tid, runId, { lastEventId: "0" }));
  assert.deepEqual([...head, ...rest].map((p) => p.id), whole.map((p) => p.id));
  assert.deepEqual([...head, ...rest].map((p) => p.data), whole.map((p) => p.data));
  assert.equal(whole[whole.length - 1].event, "end");
  const tasks = new Set(whole.filter((p) => p.event === "custom" && p.data.type === "progress").map((p) => p.data.task));
  assert.ok(tasks.has("upload") && tasks.has("verification"), [...tasks].join());
  assert.ok(texts(whole).includes("verification_passed"), texts(whole).join());
  assert.equal(gateOf(whole), "listing");

  // 3. an edit at the listing gate (runs.wait), then yes
  const edited = await client.runs.wait(tid, "satya", { command: { resume: "make it 2 SUI" } });
  assert.equal(edited.__interrupt__[0].value.gate, "listing");
  const last = await collect(
    client.runs.stream(tid, "satya", { command: { resume: "yes" }, streamMode: MODES }),
  );
  assert.ok(texts(last).includes("listed"), texts(last).join());
  const values = last.filter((p) => p.event === "values").pop().data;
  assert.match(values.context.listing_id, /^0x/);
  assert.equal(values.context.price_mist, 2_000_000_000);
  assert.equal(values.__interrupt__, undefined);

  const runs = await client.runs.list(tid, { limit: 100 });
  assert.equal(runs.length, 4);
  assert.ok(runs.every((run) => run.status === "success"));
  assert.equal((await client.threads.get(tid)).status, "idle");

  // 4. a stateless run, joined by its id alone: joinStream(null, runId) reads GET /runs/{id}/stream
  const stateless = await client.runs.create(null, "satya", {
    input: { message: "market analysis" },
    streamMode: ["custom", "values"],
    onCompletion: "keep",
  });
  const joined = await collect(client.runs.joinStream(null, stateless.run_id));
  assert.equal(joined[0].event, "metadata");
  assert.equal(joined[joined.length - 1].event, "end");
  assert.ok(texts(joined).length > 0, "the stateless run's replies are in its stream");
  console.log(JSON.stringify({
    stateless_joined: joined.length,
    thread_id: tid,
    listing_id: values.context.listing_id,
    reconnected_after: lastId,
    replayed: rest.length,
    runs: runs.length,
  }));
}

main().catch((err) => { console.error(err); process.exit(1); });
