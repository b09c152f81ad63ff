// The corrections start-azurite.js applies before Azurite loads: the LokiJS one gives the same results as LokiJS
// unchanged over a seeded sequence of the operations Azurite's queue store performs, without the index rebuilds; the
// checksum one gives the same MD5 and CRC-64 as Azurite's own functions for any data cut into any chunks; the deferred
// telemetry SDK is not loaded by Azurite with telemetry off, and is the SDK itself once anything uses it.
// Run by AzuriteLauncherTests (node --test); the repository root is the working directory.
'use strict';

const test = require('node:test');
const assert = require('node:assert');
const path = require('node:path');
const { Readable } = require('node:stream');

// A module loaded anew (its own copy), so one copy can be corrected and the other compared with it unchanged.
function fresh(modulePath) {
  delete require.cache[modulePath];
  return require(modulePath);
}

const lokiPath = require.resolve('lokijs', { paths: [path.resolve('node_modules/azurite')] });
const plainLoki = fresh(lokiPath);
const correctedLoki = fresh(lokiPath);
const { correctIndexUpkeep, correctChecksums, deferModule, smallBatch } = require(path.resolve('functions/Lepton.DevHost/Storage/start-azurite.js'));
assert.ok(correctIndexUpkeep(correctedLoki), 'the LokiJS Azurite loads has the methods to correct');

const utilsPath = path.resolve('node_modules/azurite/dist/src/common/utils/utils.js');
const plainUtils = fresh(utilsPath);
const correctedUtils = fresh(utilsPath);
assert.ok(correctChecksums(correctedUtils), 'the utils module Azurite loads has the CRC-64 functions to correct');

// Azurite's message collection, with an index on a value that gets and deletes change.
function messages(loki) {
  return new loki('test.db').addCollection('messages', { indices: ['accountName', 'queueName', 'messageId', 'timeNextVisible'] });
}

function random(seed) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function countCalls(loki, method, action) {
  const proto = loki.Collection.prototype;
  const original = proto[method];
  let calls = 0;
  proto[method] = function (...args) { calls++; return original.apply(this, args); };
  try { action(); } finally { proto[method] = original; }
  return calls;
}

function indicesSorted(coll) {
  for (const [name, index] of Object.entries(coll.binaryIndices)) {
    if (index.dirty) continue;
    assert.strictEqual(index.values.length, coll.data.length, `index ${name} covers every document`);
    for (let i = 1; i < index.values.length; i++) {
      const a = coll.data[index.values[i - 1]][name], b = coll.data[index.values[i]][name];
      assert.ok(!(b < a), `index ${name} is in order at ${i}: ${a} then ${b}`);
    }
  }
}

test('an empty removal rebuilds no index', () => {
  const plain = messages(plainLoki), corrected = messages(correctedLoki);
  for (let i = 0; i < 10; i++) {
    plain.insert({ accountName: 'a', queueName: 'q', messageId: `m${i}`, timeNextVisible: i });
    corrected.insert({ accountName: 'a', queueName: 'q', messageId: `m${i}`, timeNextVisible: i });
  }

  assert.ok(countCalls(plainLoki, 'ensureIndex', () => plain.remove([])) > 0, 'LokiJS unchanged rebuilds on an empty removal');
  assert.strictEqual(countCalls(correctedLoki, 'ensureIndex', () => corrected.remove([])), 0);
  assert.strictEqual(corrected.count(), 10);
});

test('queue operations give the same results as LokiJS unchanged', () => {
  const plain = messages(plainLoki), corrected = messages(correctedLoki);
  const next = random(42);
  let id = 0;
  for (let step = 0; step < 3000; step++) {
    const now = step * 10, queue = `q${Math.floor(next() * 3)}`, op = next();
    const on = (coll) => {
      if (op < 0.35) {
        coll.insert({ accountName: 'a', queueName: queue, messageId: `m${id}`, timeNextVisible: now + Math.floor(next.value * 500), expirationTime: now + 2000 });
      } else if (op < 0.7) {
        // a get: the visible messages, oldest first, made invisible for a while
        const docs = coll.chain().find({ accountName: 'a', queueName: queue, timeNextVisible: { $lte: now } })
          .compoundsort([['timeNextVisible', false], ['$loki', false]]).limit(1 + Math.floor(next.value * (smallBatch + 8))).data();
        for (const doc of docs) doc.timeNextVisible = now + 300;
        coll.update(docs);
      } else if (op < 0.85) {
        // clearing expired messages: usually none
        coll.remove(coll.chain().find({ accountName: 'a', queueName: queue, expirationTime: { $lte: now } }).data());
      } else {
        const doc = coll.findOne({ accountName: 'a', messageId: `m${Math.floor(next.value * id)}` });
        if (doc) coll.remove(doc);
      }
    };
    next.value = next();
    on(plain);
    on(corrected);
    if (op < 0.35) id++;

    const query = { accountName: 'a', queueName: queue, timeNextVisible: { $lte: now + 100 } };
    const ids = (coll) => coll.chain().find(query).data().map((d) => d.$loki).sort((x, y) => x - y);
    assert.deepStrictEqual(ids(corrected), ids(plain), `step ${step}`);
  }

  assert.deepStrictEqual(corrected.data.map((d) => [d.$loki, d.timeNextVisible]), plain.data.map((d) => [d.$loki, d.timeNextVisible]));
  indicesSorted(corrected);
});

// A readable stream of the given chunks, as a request body reaches Azurite's handlers.
function streamOf(chunks) {
  return Readable.from(chunks.map((c) => Buffer.from(c)), { objectMode: false });
}

function cut(bytes, next) {
  const chunks = [];
  for (let at = 0; at < bytes.length;) {
    const size = Math.min(bytes.length - at, 1 + Math.floor(next() * 70000));
    chunks.push(bytes.subarray(at, at + size));
    at += size;
  }
  return chunks;
}

test('checksums are the same as Azurite computes them', async () => {
  const next = random(7);
  const hex = (bytes) => (bytes === undefined ? undefined : Buffer.from(bytes).toString('hex'));
  // The CRC-64/NVME check value of "123456789", little-endian as on the wire.
  assert.strictEqual(hex(correctedUtils.getCRC64FromString('123456789')), '8898790a86148bae');
  for (const length of [0, 1, 7, 8, 9, 15, 16, 17, 255, 4096, 65537, 1000003]) {
    const bytes = Buffer.alloc(length);
    for (let i = 0; i < length; i++) bytes[i] = Math.floor(next() * 256);
    const chunks = cut(bytes, next);
    assert.strictEqual(hex(correctedUtils.getCRC64FromString(bytes)), hex(plainUtils.getCRC64FromString(bytes)), `${length} bytes`);
    assert.strictEqual(hex(await correctedUtils.getCRC64FromStream(streamOf(chunks))), hex(await plainUtils.getCRC64FromStream(streamOf(chunks))), `${length} bytes streamed`);
    for (const [expected, force] of [[{ crc64: 'x' }, undefined], [{ md5: 'x' }, undefined], [{}, { md5: true }], [{}, { crc64: true }], [{}, undefined]]) {
      const ours = await correctedUtils.computeTransactionalChecksums(streamOf(chunks), expected, force);
      const theirs = await plainUtils.computeTransactionalChecksums(streamOf(chunks), expected, force);
      assert.deepStrictEqual({ md5: hex(ours.md5), crc64: hex(ours.crc64) }, { md5: hex(theirs.md5), crc64: hex(theirs.crc64) }, `${length} bytes, ${JSON.stringify([expected, force])}`);
    }
  }
});

test('a module whose CRC-64 is another, or missing, is left unchanged', () => {
  const zero = () => new Uint8Array(8);
  const other = { getCRC64FromString: zero, getCRC64FromStream: zero, computeTransactionalChecksums: zero };
  assert.strictEqual(correctChecksums(other), false);
  assert.strictEqual(other.getCRC64FromString, zero);
  assert.strictEqual(correctChecksums({ getCRC64FromString: zero }), false);
  assert.strictEqual(correctChecksums(undefined), false);
});

test('the deferred telemetry SDK loads only when something uses it, and is then the SDK itself', () => {
  const azuriteSource = path.resolve('node_modules/azurite/dist/src');
  const sdkPath = require.resolve('applicationinsights', { paths: [azuriteSource] });
  delete require.cache[sdkPath];
  const deferred = deferModule(sdkPath);
  try {
    const { AzuriteTelemetryClient } = fresh(path.join(azuriteSource, 'common', 'Telemetry.js'));
    AzuriteTelemetryClient.init(undefined, false, undefined);
    AzuriteTelemetryClient.TraceRequest({});
    assert.strictEqual(deferred.loaded(), false, 'Azurite with telemetry off never touches the SDK');

    const setup = deferred.standIn.setup;
    const sdk = require(sdkPath);
    assert.strictEqual(deferred.loaded(), true);
    assert.notStrictEqual(sdk, deferred.standIn, 'once loaded, require gives the SDK itself');
    assert.strictEqual(setup, sdk.setup);
    assert.strictEqual(typeof deferred.standIn.TelemetryClient, 'function');
    assert.ok('defaultClient' in deferred.standIn);
    assert.deepStrictEqual(Object.keys(deferred.standIn), Object.keys(sdk));
  } finally {
    delete require.cache[sdkPath];
  }
});
