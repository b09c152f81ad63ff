// Starts Azurite (the script path is the first argument, Azurite's own options follow) after correcting two
// LokiJS batch operations that cost the emulator most of its CPU under queue traffic (docs/design.md, "Azurite's
// queue cost"), and its CRC-64 of uploaded blocks, computed a byte at a time (docs/design.md, "Azurite's checksum
// cost"); with --disableTelemetry it also defers loading the telemetry SDK Azurite then never uses (docs/design.md,
// "Azurite's start"). The corrections keep what the operations compute; they only skip work.
'use strict';

const crypto = require('crypto');
const path = require('path');

// Batches below this size are updated one document at a time (each index kept sorted in place, linear per document)
// instead of re-sorting every index afterwards (n log n comparisons with string-to-number conversions).
const smallBatch = 64;

/** Corrects a LokiJS module's Collection in place; returns false if it lacks the methods to correct. */
function correctIndexUpkeep(loki) {
  const collection = loki && loki.Collection && loki.Collection.prototype;
  if (!collection || typeof collection.remove !== 'function' || typeof collection.update !== 'function') {
    return false;
  }

  // Azurite clears expired messages before every get and delete of a message and usually finds none; LokiJS removed
  // that empty batch by re-sorting every index of the message collection (all queues' messages, four indices).
  const remove = collection.remove;
  collection.remove = function (doc) {
    if (Array.isArray(doc) && doc.length === 0) {
      return;
    }
    return remove.call(this, doc);
  };

  const update = collection.update;
  collection.update = function (doc) {
    if (Array.isArray(doc) && doc.length < smallBatch) {
      for (const one of doc) {
        update.call(this, one);
      }
      return;
    }
    return update.call(this, doc);
  };
  return true;
}

// CRC-64/NVME (Azure Storage's x-ms-content-crc64): reflected, polynomial 0x9a6c9329ac4bc9b5 in 32-bit halves, initial
// value and final xor all ones. Slicing by eight: table k holds a byte's effect after k more bytes, so eight bytes cost
// eight lookups and one dependency step instead of eight. Azurite's own loop ran at about 55 MB/s on a slow core, and
// it checks every staged block (Put Block answers with the block's CRC-64 unless the client sent an MD5).
const crcHi = new Int32Array(8 * 256);
const crcLo = new Int32Array(8 * 256);
(function fillTables() {
  for (let i = 0; i < 256; i++) {
    let hi = 0;
    let lo = i;
    for (let bit = 0; bit < 8; bit++) {
      const odd = lo & 1;
      lo = ((hi & 1) << 31) | (lo >>> 1);
      hi >>>= 1;
      if (odd) {
        hi ^= 0x9a6c9329;
        lo ^= 0xac4bc9b5;
      }
    }
    crcHi[i] = hi;
    crcLo[i] = lo;
  }
  for (let k = 1; k < 8; k++) {
    for (let i = 0; i < 256; i++) {
      const hi = crcHi[(k - 1) * 256 + i];
      const lo = crcLo[(k - 1) * 256 + i];
      crcHi[k * 256 + i] = (hi >>> 8) ^ crcHi[lo & 0xff];
      crcLo[k * 256 + i] = ((hi << 24) | (lo >>> 8)) ^ crcLo[lo & 0xff];
    }
  }
})();

/** The shape of Azurite's CRC64Hash (update per chunk, digest once: eight bytes, least significant first). */
class Crc64 {
  constructor() {
    this.hi = -1;
    this.lo = -1;
  }

  update(chunk) {
    const b = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    const n = b.length;
    const whole = n - (n & 7);
    let hi = this.hi;
    let lo = this.lo;
    let i = 0;
    for (; i < whole; i += 8) {
      lo ^= b[i] | (b[i + 1] << 8) | (b[i + 2] << 16) | (b[i + 3] << 24);
      hi ^= b[i + 4] | (b[i + 5] << 8) | (b[i + 6] << 16) | (b[i + 7] << 24);
      const nextHi = crcHi[1792 + (lo & 0xff)] ^ crcHi[1536 + ((lo >>> 8) & 0xff)] ^ crcHi[1280 + ((lo >>> 16) & 0xff)] ^ crcHi[1024 + (lo >>> 24)] ^
        crcHi[768 + (hi & 0xff)] ^ crcHi[512 + ((hi >>> 8) & 0xff)] ^ crcHi[256 + ((hi >>> 16) & 0xff)] ^ crcHi[hi >>> 24];
      lo = crcLo[1792 + (lo & 0xff)] ^ crcLo[1536 + ((lo >>> 8) & 0xff)] ^ crcLo[1280 + ((lo >>> 16) & 0xff)] ^ crcLo[1024 + (lo >>> 24)] ^
        crcLo[768 + (hi & 0xff)] ^ crcLo[512 + ((hi >>> 8) & 0xff)] ^ crcLo[256 + ((hi >>> 16) & 0xff)] ^ crcLo[hi >>> 24];
      hi = nextHi;
    }
    for (; i < n; i++) {
      const t = (lo ^ b[i]) & 0xff;
      lo = ((hi << 24) | (lo >>> 8)) ^ crcLo[t];
      hi = (hi >>> 8) ^ crcHi[t];
    }
    this.hi = hi;
    this.lo = lo;
    return this;
  }

  digest() {
    const result = new Uint8Array(8);
    const view = new DataView(result.buffer);
    view.setUint32(0, ~this.lo >>> 0, true);
    view.setUint32(4, ~this.hi >>> 0, true);
    return result;
  }
}

/**
 * Replaces the CRC-64 functions of Azurite's common utils module (its callers look them up on the module at each
 * call) with ones on the table above; returns false, changing nothing, if the module lacks them or if they disagree
 * with Azurite's own on a check sample.
 */
function correctChecksums(utils) {
  const names = ['getCRC64FromString', 'getCRC64FromStream', 'computeTransactionalChecksums'];
  if (!utils || names.some(name => typeof utils[name] !== 'function')) {
    return false;
  }

  const sample = Buffer.alloc(1031);
  for (let i = 0; i < sample.length; i++) {
    sample[i] = (i * 131 + 7) & 0xff;
  }
  const same = [Buffer.from('123456789'), sample, sample.subarray(3)]
    .every(bytes => Buffer.from(utils.getCRC64FromString(bytes)).equals(Buffer.from(new Crc64().update(bytes).digest())));
  if (!same) {
    return false;
  }

  utils.getCRC64FromString = text => new Crc64().update(text).digest();
  utils.getCRC64FromStream = stream => new Promise((resolve, reject) => {
    const crc = new Crc64();
    stream.on('data', chunk => crc.update(chunk)).on('end', () => resolve(crc.digest())).on('error', reject);
  });
  // As Azurite's: MD5 and/or CRC-64 in one pass, each when the request sent one to check or the caller forces it.
  utils.computeTransactionalChecksums = (stream, expected, force) => {
    const md5 = expected.md5 !== undefined || !!(force && force.md5) ? crypto.createHash('md5') : undefined;
    const crc = expected.crc64 !== undefined || !!(force && force.crc64) ? new Crc64() : undefined;
    return new Promise((resolve, reject) => {
      stream
        .on('data', chunk => {
          if (md5) {
            md5.update(chunk);
          }
          if (crc) {
            crc.update(chunk);
          }
        })
        .on('end', () => resolve({ md5: md5 ? new Uint8Array(md5.digest()) : undefined, crc64: crc ? crc.digest() : undefined }))
        .on('error', reject);
    });
  };
  return true;
}

/**
 * Makes require(modulePath) give a stand-in that loads the real module the first time anything reads, writes or
 * enumerates it. Azurite's telemetry module loads the Application Insights SDK (and OpenTelemetry with it) when it is
 * itself loaded — 1.5 s of CPU on a slow core, most of the emulator's start — and uses it only when telemetry is on.
 * Returns the stand-in's state, for tests: loaded() says whether the real module has been loaded.
 */
function deferModule(modulePath) {
  const Module = require('module');
  let real;
  const load = () => {
    if (real === undefined) {
      delete require.cache[modulePath];
      real = require(modulePath);
    }
    return real;
  };
  const standIn = new Proxy({}, {
    get: (_, key) => load()[key],
    set: (_, key, value) => { load()[key] = value; return true; },
    has: (_, key) => key in load(),
    ownKeys: () => Reflect.ownKeys(load()),
    getOwnPropertyDescriptor: (_, key) => {
      const descriptor = Reflect.getOwnPropertyDescriptor(load(), key);
      return descriptor && { ...descriptor, configurable: true };
    },
    defineProperty: (_, key, descriptor) => Reflect.defineProperty(load(), key, descriptor),
    deleteProperty: (_, key) => Reflect.deleteProperty(load(), key),
    getPrototypeOf: () => Reflect.getPrototypeOf(load()),
  });
  const cached = new Module(modulePath);
  cached.filename = modulePath;
  cached.loaded = true;
  cached.exports = standIn;
  require.cache[modulePath] = cached;
  return { standIn, loaded: () => real !== undefined };
}

module.exports = { correctIndexUpkeep, correctChecksums, deferModule, smallBatch };

if (require.main === module) {
  const azurite = path.resolve(process.argv[2] || '');
  // Azurite reads its options from process.argv: it must not see its own path among them.
  process.argv.splice(2, 1);
  // The LokiJS that Azurite itself loads, wherever npm placed it.
  const loki = require(require.resolve('lokijs', { paths: [path.dirname(azurite)] }));
  if (!correctIndexUpkeep(loki)) {
    console.warn('start-azurite: this LokiJS has no Collection.remove/update to correct; starting Azurite unchanged');
  }
  // The module Azurite's handlers load, by its place in Azurite's build (dist/src/common/utils/utils.js).
  const utilsPath = path.join(path.dirname(azurite), 'common', 'utils', 'utils.js');
  let utils;
  try {
    utils = require(utilsPath);
  } catch {
    utils = undefined;
  }
  if (!correctChecksums(utils)) {
    console.warn('start-azurite: Azurite\'s CRC-64 functions are not the ones this script corrects; leaving them unchanged');
  }
  if (process.argv.includes('--disableTelemetry')) {
    try {
      deferModule(require.resolve('applicationinsights', { paths: [path.dirname(azurite)] }));
    } catch {
      // An Azurite without that SDK loads what it has.
    }
  }
  require(azurite);
}
