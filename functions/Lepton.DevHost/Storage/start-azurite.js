// Starts Azurite (the script path is the first argument, Azurite's own options follow) after correcting two
// LokiJS batch operations that cost the emulator most of its CPU under queue traffic (docs/design.md, "Azurite's
// queue cost"). Both corrections keep what the operations do; they only skip full index rebuilds.
'use strict';

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

module.exports = { correctIndexUpkeep, smallBatch };

if (require.main === module) {
  const azurite = path.resolve(process.argv[2] || '');
  // Azurite reads its options from process.argv: it must not see its own path among them.
  process.argv.splice(2, 1);
  // The LokiJS that Azurite itself loads, wherever npm placed it.
  const loki = require(require.resolve('lokijs', { paths: [path.dirname(azurite)] }));
  if (!correctIndexUpkeep(loki)) {
    console.warn('start-azurite: this LokiJS has no Collection.remove/update to correct; starting Azurite unchanged');
  }
  require(azurite);
}
