// npm run lint: a few rules that find bugs, none about style (formatting is left to the author).
// Type-aware rules (no-floating-promises...) are left out: `npm run typecheck` covers types, and a
// type-aware pass over every workspace costs minutes on a 2-core CI machine.
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['**/node_modules/**', '**/dist/**', '.tsbuild/**', '**/*.svelte', 'data/**', 'test-results/**'] },
  {
    files: ['**/*.ts', '**/*.mjs', '**/*.js'],
    languageOptions: { parser: tseslint.parser, ecmaVersion: 'latest', sourceType: 'module' },
    plugins: { '@typescript-eslint': tseslint.plugin },
    rules: {
      'no-fallthrough': 'error',
      'no-self-compare': 'error',
      'no-unreachable': 'error',
      'no-constant-binary-expression': 'error',
      'no-dupe-keys': 'error',
      'no-dupe-else-if': 'error',
      'no-cond-assign': ['error', 'except-parens'],
      'no-async-promise-executor': 'error',
      'no-unsafe-finally': 'error',
      'no-compare-neg-zero': 'error',
      'no-unsafe-negation': 'error',
      'use-isnan': 'error',
      'valid-typeof': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { args: 'after-used', argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none', ignoreRestSiblings: true }],
    },
  },
);
