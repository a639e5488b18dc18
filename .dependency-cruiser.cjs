// Dependencies point one way: config → common → infrastructure → features → web, health, cli and
// the app's wiring. Each folder below may import only the folders before it.
const LAYERS = [
  'config',
  'common',
  // infrastructure
  'database',
  'store',
  'metrics',
  'mail',
  'logging',
  // features
  'audit',
  'users',
  'otp',
  'rate-limit',
  'auth',
  'oidc',
  'account',
  'webhooks',
  // web and operations
  'cleanup',
  'docs',
  'health',
  'web',
  'oidc-provider',
  'cli',
];

const againstTheDirection = LAYERS.map((folder, index) => ({
  name: `${folder}-imports-only-lower-layers`,
  comment: `src/${folder} may import only ${LAYERS.slice(0, index).join(', ') || 'no other folder'} (see docs/architecture.md)`,
  severity: 'error',
  // Unit specs may wire real collaborators from anywhere.
  from: { path: `^src/${folder}/`, pathNot: '\\.spec\\.ts$' },
  to: {
    path: `^src/(${[...LAYERS.slice(index + 1).map((later) => `${later}/`), '[^/]+\\.ts$'].join('|')})`,
    // A TypeORM relation names the other entity's type only; nothing is imported at run time.
    dependencyTypesNot: ['type-only'],
  },
}));

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    ...againstTheDirection,
    {
      name: 'no-circular',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true, dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'no-unresolvable',
      severity: 'error',
      from: { path: '^src/' },
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'] },
  },
};
