// A jest environment for tests that run onnxruntime-node in the test process: jest gives each test file its own
// realm, whose typed-array constructors differ from the ones native addons create their arrays with, so
// onnxruntime-common's `instanceof Float32Array` check refuses every output tensor. Here the file's realm gets the
// process' own typed-array constructors. Use it with a `@jest-environment ./tests/support/native-typed-arrays-environment.js`
// docblock; worker processes (plain Node) need nothing.
const { TestEnvironment } = require('jest-environment-node');

const TYPED_ARRAYS = [
  'Int8Array',
  'Uint8Array',
  'Uint8ClampedArray',
  'Int16Array',
  'Uint16Array',
  'Int32Array',
  'Uint32Array',
  'Float32Array',
  'Float64Array',
  'BigInt64Array',
  'BigUint64Array',
  'ArrayBuffer',
];

class NativeTypedArraysEnvironment extends TestEnvironment {
  constructor(config, context) {
    super(config, context);
    for (const name of TYPED_ARRAYS) this.global[name] = globalThis[name];
  }
}

module.exports = NativeTypedArraysEnvironment;
