import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseConfig } from '../../src/config/app-config';
import { createDataSource } from '../../src/database/data-source-options';
import { ENTITIES } from '../../src/entities';
import { POSTGRES_MIGRATIONS, runPendingMigrations } from '../../src/database/migrations';
import { describeWith } from '../support/services';
import { createTestDatabase } from '../support/test-database';

const ENGINES: {
  engine: string;
  needs: 'postgres'[];
  database: () => Promise<{ config: DatabaseConfig; drop: () => Promise<void> }>;
}[] = [
  {
    engine: 'sqlite',
    needs: [],
    database: async () => {
      const dir = mkdtempSync(join(tmpdir(), 'migrations-'));
      return {
        config: { type: 'sqlite', path: join(dir, 'app.sqlite') },
        drop: async () => rmSync(dir, { recursive: true, force: true }),
      };
    },
  },
  {
    engine: 'postgres',
    needs: ['postgres'],
    database: async () => {
      const database = await createTestDatabase('migrations');
      return { config: { type: 'postgres', url: database.url }, drop: database.drop };
    },
  },
];

for (const { engine, needs, database } of ENGINES) {
  describeWith(needs, `migrations on ${engine}`, () => {
    it('build exactly the schema the entities describe, and roll back to nothing', async () => {
      const { config, drop } = await database();
      const dataSource = createDataSource(config, ENTITIES);
      try {
        await dataSource.initialize();
        const applied = await dataSource.runMigrations();
        expect(applied.length).toBeGreaterThan(0);
        const pending = await dataSource.driver.createSchemaBuilder().log();
        expect(pending.upQueries.map((query) => query.query)).toEqual([]);

        for (let undone = 0; undone < applied.length; undone++) await dataSource.undoLastMigration();
        const tables = await dataSource
          .createQueryRunner()
          .getTables(['users', 'otp_tokens', 'sessions', 'audit_events', 'oidc_clients', 'oidc_payloads']);
        expect(tables).toEqual([]);
      } finally {
        if (dataSource.isInitialized) await dataSource.destroy();
        await drop();
      }
    });
  });
}

describeWith(['postgres'], 'migrations on postgres by instances starting together', () => {
  it('are applied once, by one of them; the others wait and find nothing pending', async () => {
    const database = await createTestDatabase('migrations');
    const instances = Array.from({ length: 3 }, () =>
      createDataSource({ type: 'postgres', url: database.url }, ENTITIES),
    );
    try {
      await Promise.all(instances.map((instance) => instance.initialize()));
      const applied = await Promise.all(instances.map((instance) => runPendingMigrations(instance)));
      expect(applied.map((migrations) => migrations.length).sort()).toEqual([0, 0, POSTGRES_MIGRATIONS.length]);
      expect(await instances[0].query('SELECT name FROM migrations')).toHaveLength(POSTGRES_MIGRATIONS.length);
    } finally {
      await Promise.all(instances.filter((instance) => instance.isInitialized).map((instance) => instance.destroy()));
      await database.drop();
    }
  });
});
