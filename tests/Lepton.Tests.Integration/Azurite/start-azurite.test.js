// The LokiJS correction that start-azurite.js applies before Azurite loads: the same results as LokiJS unchanged, over
// a seeded sequence of the operations Azurite's queue store performs, without the index rebuilds.
// Run by AzuriteLauncherTests (node --test); the repository root is the working directory.
'use strict';

const test = require('node:test');
const assert = require('node:assert');
const path = require('node:path');

const lokiPath = require.resolve('lokijs', { paths: [path.resolve('node_modules/azurite')] });
function freshLoki() {
  delete require.cache[lokiPath];
  return require(lokiPath);
}

const plainLoki = freshLoki();
const correctedLoki = freshLoki();
const { correctIndexUpkeep, smallBatch } = require(path.resolve('functions/Lepton.DevHost/Storage/start-azurite.js'));
assert.ok(correctIndexUpkeep(correctedLoki), 'the LokiJS Azurite loads has the methods to correct');

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
