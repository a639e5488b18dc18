/** Unit specs live beside the code; integration and e2e suites under test/ talk to real services. */
const { compilerOptions } = require('./tsconfig.json');

/**
 * oidc-provider and openid-client are ES modules only. The build loads them with Node's require(esm);
 * Jest cannot, so tests compile with module node16, which keeps `import()` as it is, and Jest
 * (run with --experimental-vm-modules) loads them as ES modules. TS1272 is node16's stricter reading
 * of decorator metadata types; the emitted code is the same as the build's.
 */
const transform = {
  '^.+\\.ts$': [
    'ts-jest',
    {
      tsconfig: { ...compilerOptions, module: 'node16', moduleResolution: 'node16' },
      diagnostics: { ignoreCodes: [1272] },
    },
  ],
};

module.exports = {
  testTimeout: 30000,
  projects: [
    {
      displayName: 'unit',
      testEnvironment: 'node',
      roots: ['<rootDir>/src'],
      testMatch: ['**/*.spec.ts'],
      transform,
    },
    {
      displayName: 'e2e',
      testEnvironment: 'node',
      roots: ['<rootDir>/test'],
      testMatch: ['**/*.e2e-spec.ts'],
      transform,
      globalSetup: '<rootDir>/test/support/global-setup.ts',
    },
  ],
};
