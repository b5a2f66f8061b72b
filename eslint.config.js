// The linter checks what review would otherwise have to remember: the direction of
// dependencies between layers (eslint-plugin-boundaries), no import cycles (import-x), no
// file over 400 lines, one error model, and the usual TypeScript slips (typescript-eslint).
// Formatting is prettier's job (`npm run format`).
import js from '@eslint/js';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';
import boundaries from 'eslint-plugin-boundaries';
import { importX } from 'eslint-plugin-import-x';
import globals from 'globals';
import tseslint from 'typescript-eslint';

/**
 * The layers, most depended-on first. A file belongs to the first element whose pattern
 * matches it. The ground floor is core/: kernel imports nothing of ours, contracts only the
 * kernel, and neither imports anything above them; every layer may stand on them. drivers
 * import only core and config; the agent's runtime never a driver (only the composition root
 * wires them); nothing but tests imports scripts/.
 */
const elements = [
  { type: 'kernel', pattern: 'core/kernel/**', partialMatch: false },
  { type: 'contracts', pattern: 'core/contracts/**', partialMatch: false },
  { type: 'runtime', pattern: 'agent/**', partialMatch: false },
  { type: 'config', pattern: 'config/**', partialMatch: false },
  { type: 'drivers', pattern: 'drivers/**', partialMatch: false },
  { type: 'flows', pattern: 'flows/**', partialMatch: false },
  { type: 'scripts', pattern: 'scripts/**', partialMatch: false },
  { type: 'tests', pattern: 'test/**', partialMatch: false },
];

const may = (from, to) => ({ from: { element: { type: from } }, allow: { to: { element: { types: { anyOf: to } } } } });

const policies = [
  may('kernel', ['kernel']),
  may('contracts', ['kernel', 'contracts']),
  may('config', ['kernel', 'contracts', 'config']),
  may('drivers', ['kernel', 'contracts', 'config', 'drivers']),
  may('runtime', ['kernel', 'contracts', 'config', 'runtime']),
  // The composition root (agent.ts, and the CLI that starts it) is the one place that wires concrete drivers in.
  { from: { file: { categories: 'composition-root' } }, allow: { to: { element: { type: 'drivers' } } } },
  may('flows', ['kernel', 'contracts', 'flows']),
  may('scripts', ['kernel', 'contracts', 'config', 'runtime', 'drivers', 'scripts']),
  may('tests', ['kernel', 'contracts', 'config', 'runtime', 'drivers', 'flows', 'scripts', 'tests']),
];

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', '**/*.cjs', 'config/schemas/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts', '**/*.js', '**/*.mjs'],
    languageOptions: { globals: globals.node },
    plugins: { boundaries, 'import-x': importX },
    settings: {
      'boundaries/elements': elements,
      'boundaries/files': [
        { category: 'composition-root', pattern: ['agent/agent.ts', 'agent/cli-main.ts'] },
        { category: 'tooling', pattern: ['*.config.ts', '*.config.js'] }, // lint and test runner settings
      ],
      // Every file belongs to a layer (boundaries/no-unknown-files): a new folder is a decision, not a blind spot.
      'boundaries/include': ['**/*.{ts,js,mjs}'],
      'import/resolver': { typescript: { project: './tsconfig.json' } },
      // import-x reads the files an import reaches (for no-cycle) with the TypeScript parser, resolved as tsc does.
      'import-x/extensions': ['.ts', '.js', '.mjs'],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts'] },
      'import-x/resolver-next': [createTypeScriptImportResolver({ project: './tsconfig.json' })],
    },
    rules: {
      'boundaries/dependencies': ['error', { default: 'disallow', policies }],
      'boundaries/no-unknown-files': 'error',
      // Two modules that import each other have no order in which both are whole: one sees the
      // other half-made at load time, and neither can be read or tested alone. Type-only imports
      // vanish at run time and are not counted.
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
      // One concept per file; every line counts (a long comment is a long file too).
      'max-lines': ['error', { max: 400, skipBlankLines: false, skipComments: false }],
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' },
      ],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      eqeqeq: ['error', 'always'],
      'no-empty': ['error', { allowEmptyCatch: false }],
    },
  },
  {
    // Node-RED loads custom nodes with require(): flows/nodes/ is a CommonJS package (its own
    // package.json says "type": "commonjs"), so require/module are its module system, not a slip.
    files: ['flows/nodes/**/*.js'],
    languageOptions: { sourceType: 'commonjs', globals: globals.node },
    // `const node = this` is how every Node-RED node keeps its node for callbacks.
    rules: { '@typescript-eslint/no-require-imports': 'off', '@typescript-eslint/no-this-alias': 'off' },
  },
  {
    // Served to the editor's page (resources/): a browser script beside Node-RED's own jQuery and RED.
    files: ['flows/nodes/resources/**/*.js'],
    languageOptions: { sourceType: 'script', globals: { ...globals.browser, $: 'readonly', RED: 'readonly' } },
  },
  {
    // A promise nobody awaits or catches is a rejection nobody handles: in the agent that is a crash.
    files: ['core/**/*.ts', 'agent/**/*.ts', 'drivers/**/*.ts', 'config/**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: false }],
    },
  },
  {
    // One error model: what the agent raises carries a code from core/kernel/errors.ts.
    files: ['core/**/*.ts', 'agent/**/*.ts', 'drivers/**/*.ts', 'config/**/*.ts'],
    rules: {
      'no-restricted-syntax': [
        'error',
        {
          selector: ':matches(NewExpression, CallExpression)[callee.name=/^(Error|TypeError|RangeError)$/]',
          message: 'raise a GatewayError with a code from core/kernel/errors.ts',
        },
        {
          selector: "ClassDeclaration[superClass.name='Error']",
          message: 'errors extend GatewayError (core/kernel/errors.ts), so they carry a listed code',
        },
      ],
    },
  },
);
