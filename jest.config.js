/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/tests'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.ts$': [
      '@swc/jest',
      { jsc: { target: 'es2022', parser: { syntax: 'typescript' } }, module: { type: 'commonjs' } },
    ],
    // ESM-only packages that activities load in the test process (in-process workers): compiled to CommonJS here,
    // as Node itself loads them in worker processes
    '/node_modules/hyparquet(-writer)?/.+\\.js$': [
      '@swc/jest',
      { jsc: { target: 'es2022', parser: { syntax: 'ecmascript' } }, module: { type: 'commonjs' } },
    ],
  },
  transformIgnorePatterns: ['/node_modules/(?!hyparquet(-writer)?/)'],
  testTimeout: 120000,
  maxWorkers: 1,
  reporters: ['default', '<rootDir>/tests/support/summary-reporter.js'],
};
