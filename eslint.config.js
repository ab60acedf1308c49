import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/**
 * The layers of lib/, lowest first: a folder may import from the folders before it,
 * never from those after it (docs/architecture.md draws the picture, and a unit test
 * checks that the imports, the picture and this list agree).
 */
const LAYERS = ['protocol', 'utils', 'endpoint', 'push', 'handlers', 'metrics', 'asyncapi', 'module', 'health', 'testing'];

/** The client stands beside the server's layers: only the test kit, above them all, builds on it. */
const CLIENT_USERS = new Set(['testing']);

const layerRules = LAYERS.flatMap((layer, index) => {
  const above = [...LAYERS.slice(index + 1), ...(CLIENT_USERS.has(layer) ? [] : ['client'])];
  if (above.length === 0) {
    return [];
  }
  return {
    files: [`lib/${layer}/**`],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ regex: `^(\\.\\./)+(${above.join('|')})/`, message: `lib/${layer} is below ${above.join(', ')}: imports run one way (docs/architecture.md).` }] },
      ],
    },
  };
});

const BROWSER_GLOBALS = ['Buffer', 'process', 'setImmediate', 'require'];

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'artifacts/', 'docs/api/'] },
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
  ...layerRules,
  {
    // The client is loaded by browsers as it is: no Node globals, nothing from outside its folder but the shared rules.
    files: ['lib/client/**'],
    rules: {
      'no-restricted-globals': ['error', ...BROWSER_GLOBALS],
      'no-restricted-imports': [
        'error',
        { patterns: [{ regex: '^(?!\\./|\\.\\./protocol/(rules|errors)\\.js$)', message: 'The client may import only files of lib/client and the shared lib/protocol/rules.js and errors.js.' }] },
      ],
    },
  },
  {
    // What the client shares with the server: loaded by browsers as it is, and imports nothing.
    files: ['lib/protocol/rules.ts', 'lib/protocol/errors.ts'],
    rules: {
      'no-restricted-globals': ['error', ...BROWSER_GLOBALS],
      'no-restricted-imports': ['error', { patterns: [{ regex: '.', message: 'The rules the client shares import nothing.' }] }],
    },
  },
  {
    files: ['test/**', 'bench/**', 'sample/**'],
    rules: { 'no-console': 'off' },
  },
);
