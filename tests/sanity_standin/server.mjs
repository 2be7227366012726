// A faithful-enough local stand-in for Sanity's HTTP API (query, doc, mutate) for offline tests.
// GROQ runs on Sanity's own groq-js and patches on Sanity's own @sanity/mutator; transactions are
// all-or-nothing, each gets a new _rev, a stale ifRevisionID or creating an existing id is 409.
// Binds 127.0.0.1 only; prints the port on stdout; exits when stdin closes (its parent died).
// Fault hooks for the drift tests: POST /_standin/faults {dataset, endpoint, status, delayMs,
// phase, times} makes the next `times` matching requests of that dataset answer `status`
// (phase "before": nothing applied; "after": applied, then the error) or wait `delayMs` first
// (phase "before") or after applying (phase "after"), as a slow or failing Sanity would.
import http from "node:http";
import { randomBytes } from "node:crypto";
import { parse, evaluate } from "groq-js";
import { Mutation } from "@sanity/mutator";

const token = process.env.SANITY_STANDIN_TOKEN || "";
const datasets = new Map(); // name -> Map(id -> doc)
let transactions = 0;
let faults = []; // {dataset, endpoint, status, delayMs, phase, times}

function takeFault(name, endpoint) {
  const fault = faults.find((f) => f.dataset === name && (f.endpoint === "*" || f.endpoint === endpoint) && f.times > 0);
  if (!fault) return null;
  fault.times -= 1;
  faults = faults.filter((f) => f.times > 0);
  return fault;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function dataset(name) {
  if (!datasets.has(name)) datasets.set(name, new Map());
  return datasets.get(name);
}

function newRev() {
  return randomBytes(11).toString("base64url");
}

function send(res, status, body) {
  const data = JSON.stringify(body);
  res.writeHead(status, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(data) });
  res.end(data);
}

function fail(res, status, type, description, extra = {}) {
  send(res, status, { error: { type, description, ...extra } });
}

class Conflict extends Error {}
class BadRequest extends Error {}

function applyTransaction(docs, mutations) {
  // Work on copies; only a transaction that fully succeeds is written back.
  const rev = newRev();
  const now = new Date().toISOString();
  const staged = new Map();
  const results = [];
  const get = (id) => (staged.has(id) ? staged.get(id) : docs.get(id) ?? null);
  for (const mutation of mutations) {
    const [kind] = Object.keys(mutation);
    const body = mutation[kind];
    if (kind === "create" || kind === "createIfNotExists" || kind === "createOrReplace") {
      if (!body || typeof body !== "object" || !body._type) throw new BadRequest(`${kind} needs a document with _type`);
      const id = body._id || randomBytes(12).toString("hex");
      const existing = get(id);
      if (existing && kind === "create") throw new Conflict(`Document by ID "${id}" already exists`);
      if (existing && kind === "createIfNotExists") { results.push({ id, operation: "none" }); continue; }
      staged.set(id, { ...body, _id: id, _rev: rev, _createdAt: existing?._createdAt ?? now, _updatedAt: now });
      results.push({ id, operation: existing ? "update" : "create" });
    } else if (kind === "delete") {
      const id = body.id;
      if (get(id)) { staged.set(id, null); results.push({ id, operation: "delete" }); }
    } else if (kind === "patch") {
      const id = body.id;
      const existing = get(id);
      if (!existing) throw new Conflict(`Document by ID "${id}" not found`);
      if (body.ifRevisionID && body.ifRevisionID !== existing._rev) {
        throw new Conflict(`Document by ID "${id}" has unexpected revision ID ("${existing._rev}"), expected "${body.ifRevisionID}"`);
      }
      const { ifRevisionID, ...patch } = body;
      const patched = new Mutation({ mutations: [{ patch }], resultRev: rev, timestamp: now }).apply(existing);
      staged.set(id, { ...patched, _rev: rev, _updatedAt: now });
      results.push({ id, operation: "update" });
    } else {
      throw new BadRequest(`Unknown mutation "${kind}"`);
    }
  }
  for (const [id, doc] of staged) {
    if (doc === null) docs.delete(id); else docs.set(id, doc);
  }
  transactions += 1;
  return { transactionId: rev, results, documentIds: results.map((r) => r.id) };
}

async function readBody(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return Buffer.concat(chunks).toString("utf8");
}

const server = http.createServer(async (req, res) => {
  try {
    const url = new URL(req.url, "http://127.0.0.1");
    if (url.pathname === "/_standin/stats") return send(res, 200, { transactions });
    if (url.pathname === "/_standin/reset" && req.method === "POST") { datasets.clear(); faults = []; return send(res, 200, { ok: true }); }
    if (url.pathname === "/_standin/faults" && req.method === "POST") {
      const fault = JSON.parse(await readBody(req));
      if (fault.clear) faults = faults.filter((f) => f.dataset !== fault.dataset);
      else faults.push({ endpoint: "*", status: 0, delayMs: 0, phase: "before", times: 1, ...fault });
      return send(res, 200, { faults: faults.length });
    }
    if (token && req.headers.authorization !== `Bearer ${token}`) return fail(res, 401, "unauthorized", "Unauthorized - session not found");
    const match = url.pathname.match(/^\/v[\w-]+\/data\/(query|doc|mutate)\/([\w-]+)(?:\/(.*))?$/);
    if (!match) return fail(res, 404, "notFound", "Not found");
    const [, endpoint, name, rest] = match;
    const docs = dataset(name);
    const fault = takeFault(name, endpoint);
    if (fault && fault.phase === "before") {
      if (fault.delayMs) await sleep(fault.delayMs);
      if (fault.status) return fail(res, fault.status, "serverError", "Injected fault");
    }
    const answer = async (status, body) => {
      if (fault && fault.phase === "after") {
        if (fault.delayMs) await sleep(fault.delayMs);
        if (fault.status) return fail(res, fault.status, "serverError", "Injected fault (applied)");
      }
      return send(res, status, body);
    };
    if (endpoint === "query" && req.method === "GET") {
      const query = url.searchParams.get("query");
      if (!query) return fail(res, 400, "queryParseError", "Missing query");
      const params = {};
      for (const [key, value] of url.searchParams) {
        if (key.startsWith("$")) {
          try { params[key.slice(1)] = JSON.parse(value); } catch { return fail(res, 400, "queryParseError", `Invalid parameter ${key}`); }
        }
      }
      let tree;
      try { tree = parse(query, { params }); } catch (error) { return fail(res, 400, "queryParseError", String(error.message || error)); }
      const started = Date.now();
      const value = await evaluate(tree, { dataset: [...docs.values()], params });
      return answer(200, { ms: Date.now() - started, query, result: await value.get() });
    }
    if (endpoint === "doc" && req.method === "GET") {
      const ids = (rest || "").split(",").filter(Boolean);
      return answer(200, { documents: ids.map((id) => docs.get(id)).filter(Boolean) });
    }
    if (endpoint === "mutate" && req.method === "POST") {
      let payload;
      try { payload = JSON.parse(await readBody(req)); } catch { return fail(res, 400, "invalidJson", "Body is not JSON"); }
      if (!Array.isArray(payload.mutations)) return fail(res, 400, "mutationError", "mutations must be an array");
      try {
        const outcome = applyTransaction(docs, payload.mutations);
        return answer(200, outcome);
      } catch (error) {
        if (error instanceof Conflict) return fail(res, 409, "mutationError", error.message);
        if (error instanceof BadRequest) return fail(res, 400, "mutationError", error.message);
        return fail(res, 400, "mutationError", String(error.message || error));
      }
    }
    return fail(res, 405, "methodNotAllowed", "Method not allowed");
  } catch (error) {
    return fail(res, 500, "serverError", String(error.stack || error));
  }
});

server.listen(Number(process.env.PORT || 0), "127.0.0.1", () => {
  process.stdout.write(`${server.address().port}\n`);
});
process.stdin.on("end", () => process.exit(0));
process.stdin.resume();
