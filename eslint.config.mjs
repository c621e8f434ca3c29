// Lint rules of the project (run by `npm test` through `npm run lint`): the Temporal samples' rules for workflow
// code (no floating promises, no Node built-ins in deterministic code) plus the SDK's import/no-cycle.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import importX from 'eslint-plugin-import-x';
import prettier from 'eslint-config-prettier';

const NODE_BUILTINS = [
  'node:*',
  'fs',
  'fs/*',
  'path',
  'os',
  'child_process',
  'crypto',
  'http',
  'https',
  'net',
  'stream',
  'util',
  'worker_threads',
  'zlib',
  'events',
  'process',
  'url',
  'readline',
  'dns',
  'tls',
  'cluster',
  'v8',
  'vm',
];

export default tseslint.config(
  { ignores: ['node_modules/**', 'build/**', 'runs/**', 'models/**', '.tools/**', 'coverage/**', '**/*.py'] },
  {
    files: ['**/*.ts'],
    languageOptions: {
      parser: tseslint.parser,
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    plugins: { '@typescript-eslint': tseslint.plugin, 'import-x': importX },
    settings: { 'import-x/resolver': { node: { extensions: ['.ts', '.js', '.json'] } } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: false }],
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-require-imports': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none', ignoreRestSiblings: true },
      ],
      'no-control-regex': 'error',
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
    },
  },
  {
    // deterministic code: the workflow bundle and the pure domain it imports
    files: ['domain/**/*.ts', 'workflows/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [{ group: NODE_BUILTINS, message: 'domain/ and workflows/ are deterministic: no Node built-ins' }],
        },
      ],
      'no-restricted-globals': ['error', { name: 'process', message: 'no process state in deterministic code' }],
      'no-restricted-syntax': [
        'error',
        {
          selector: "NewExpression[callee.name='Date']",
          message: 'no Date in deterministic code: time comes from the workflow or the caller',
        },
        {
          selector: "MemberExpression[object.name='Date']",
          message: 'no Date in deterministic code: time comes from the workflow or the caller',
        },
        {
          selector: "CallExpression[callee.object.name='Math'][callee.property.name='random']",
          message: 'no Math.random in deterministic code: use domain/random.ts with a derived seed',
        },
      ],
    },
  },
  {
    // the in-isolate runtime of the JavaScript sandbox: a plain script that sees only ECMAScript built-ins
    files: ['activities/sandbox/js-shim.js'],
    languageOptions: { sourceType: 'script', ecmaVersion: 2023, globals: {} },
    rules: { ...js.configs.recommended.rules, 'no-unused-vars': ['error', { argsIgnorePattern: '^_' }] },
  },
  {
    // tests read JSON results of workflows and servers loosely
    files: ['tests/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off', '@typescript-eslint/no-require-imports': 'off' },
  },
  prettier,
);
