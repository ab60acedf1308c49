import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'artifacts/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: { Buffer: 'readonly', console: 'readonly', process: 'readonly', URL: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly', setImmediate: 'readonly' },
    },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      'no-console': ['error', { allow: ['warn', 'error'] }],
    },
  },
  {
    // The client is loaded by browsers as it is: no Node globals, nothing from outside its folder.
    files: ['lib/client/**'],
    rules: {
      'no-restricted-globals': ['error', 'Buffer', 'process', 'setImmediate', 'require'],
      'no-restricted-imports': ['error', { patterns: [{ regex: '^(?!\\./)', message: 'The client may import only files of lib/client.' }] }],
    },
  },
  {
    files: ['test/**', 'bench/**', 'sample/**'],
    rules: { 'no-console': 'off' },
  },
);
