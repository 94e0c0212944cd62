// Lint: the recommended rules of ESLint and typescript-eslint, plus a guard that keeps the
// model free of I/O (design.md: the model imports nothing outside model/ and ops/ types).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', 'out/', 'reports/', '.stryker-tmp/', 'apk-fixtures/**/build/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
    },
  },
  {
    // CommonJS is used only where a tool demands it (mocha's reporter loader).
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs', globals: { require: 'readonly', module: 'writable', process: 'readonly' } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    files: ['harness/report/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['../check/*', '../targets/*', '../model/*'], message: 'Reports only render data handed to them.' }] }],
    },
  },
  {
    files: ['harness/model/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [
          { group: ['node:*', 'fs', 'child_process', 'net', 'os', 'path'], message: 'The model does no I/O.' },
          { group: ['../check/*', '../targets/*', '../report/*', '../cli*'], message: 'Dependencies point one way: the model imports only model/ and ops/.' },
        ],
      }],
    },
  },
);
