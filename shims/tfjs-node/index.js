// moelab shim for danfojs-node's @tensorflow/tfjs-node dependency (docs/package.md "DataFrames", shims/tfjs-node/README.md).
// danfojs only needs tensor maths on small tables; the pure-JS build is enough and installs offline.
// moelab's own training never goes through this file: src/engine chooses the real backend.
module.exports = require('@tensorflow/tfjs');
