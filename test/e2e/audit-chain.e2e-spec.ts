import { randomBytes } from 'node:crypto';
import { SchedulerRegistry } from '@nestjs/schedule';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { AuditChainService } from '../../src/audit/audit-chain.service';
import { idsIn, parseRanges, sealAnchor, sealLegacyEvent } from '../../src/audit/audit-chain';
import { AuditEvent } from '../../src/audit/audit-event.entity';
import { AuditSeal } from '../../src/audit/audit-seal.entity';
import { AuditVerifier, ChainReport } from '../../src/audit/audit-verifier.service';
import { AuditRepository } from '../../src/audit/audit.repository';
import { AuditService } from '../../src/audit/audit.service';
import { CleanupJob } from '../../src/cleanup/cleanup.job';
import { Clock } from '../../src/common/clock';
import { Secrets } from '../../src/common/secrets';
import { JobLock } from '../../src/store/job-lock';
import { runCli } from '../support/cli';
import { FakeClock } from '../support/fake-clock';
import { signIn } from '../support/factories';
import { describeWith } from '../support/services';
import { BACKENDS, startTestApp, TestApp } from '../support/test-app';

const DAY_MS = 86_400_000;

for (const { backend, needs } of BACKENDS) {
  describeWith(needs, `the insert-only audit chain on ${backend}`, () => {
    const apps: TestApp[] = [];
    afterEach(async () => {
      // Newest first: the first instance of a deployment owns its database.
      for (const app of apps.splice(0).reverse()) await app.close();
    });

    /** Seals only when a test says so. */
    async function newApp(env: Record<string, string> = {}, sameDeploymentAs?: TestApp): Promise<TestApp> {
      const app = await startTestApp({ backend, env, sameDeploymentAs });
      apps.push(app);
      app.app.get(SchedulerRegistry).deleteInterval('audit-seal');
      return app;
    }
    const db = (app: TestApp) => app.app.get(DataSource);
    const postgres = backend === 'postgres-redis';
    /** Raw SQL with `$1`-style parameters on either engine; SQLite takes them in order of appearance, dates as text. */
    const sql = (app: TestApp, text: string, parameters: unknown[] = []) => {
      if (postgres) return db(app).query(text, parameters);
      const ordered = [...text.matchAll(/\$(\d+)/g)].map(([, n]) => parameters[Number(n) - 1]);
      return db(app).query(
        text.replace(/\$\d+/g, '?'),
        ordered.map((value) => (value instanceof Date ? value.toISOString().replace('T', ' ').slice(0, -1) : value)),
      );
    };
    const seal = (app: TestApp) => app.app.get(AuditChainService).sealPending();
    const verify = (app: TestApp): Promise<ChainReport> => app.app.get(AuditVerifier).verify();
    const rounds = (app: TestApp) => db(app).manager.find(AuditSeal, { order: { round: 'ASC' } });
    const events = (app: TestApp) => db(app).manager.find(AuditEvent, { order: { id: 'ASC' } });
    /** Events written through the service, several per round. */
    const record = (app: TestApp, count: number) =>
      app.app
        .get(AuditService)
        .record(Array.from({ length: count }, (_, i) => ({ type: 'otp.requested' as const, details: { i } })));

    it('seals by inserting rounds, never by changing an event, and verifies through the CLI', async () => {
      const app = await newApp();
      await signIn(app);
      await seal(app);
      await record(app, 3);
      await signIn(app);
      await seal(app);

      const sealed = await rounds(app);
      const all = await events(app);
      expect(sealed.map((round) => String(round.round))).toEqual(['1', '2']);
      expect(sealed.reduce((sum, round) => sum + round.eventCount, 0)).toBe(all.length);
      expect(all.every((event) => event.chainIndex === null && event.seal === null)).toBe(true);
      expect(sealed.every((round) => round.keyId === app.app.get(Secrets).auditKeyId)).toBe(true);

      const result = await runCli(app, 'audit', 'verify');
      expect(result).toMatchObject({
        status: 0,
        stdout: `audit chain intact: ${all.length} events verified (rounds 1 to 2)`,
      });
    });

    it('names an edited event, and verifies again once it is restored', async () => {
      const app = await newApp();
      await signIn(app);
      await seal(app);
      const victim = (await events(app))[3];
      await sql(app, `UPDATE audit_events SET email = 'mallory@example.com' WHERE id = $1`, [victim.id]);
      const report = await verify(app);
      expect(report.ok).toBe(false);
      expect(report.problem).toBe(`event ${victim.id} (round 1) does not match its seal: it was changed`);

      await sql(app, `UPDATE audit_events SET email = $2 WHERE id = $1`, [victim.id, victim.email]);
      expect((await verify(app)).ok).toBe(true);
    });

    it('names a deleted event, in the middle or the newest', async () => {
      const app = await newApp();
      await signIn(app);
      await seal(app);
      await record(app, 2);
      await seal(app);
      const [, middle] = await events(app);
      await sql(app, `DELETE FROM audit_events WHERE id = $1`, [middle.id]);
      expect((await verify(app)).problem).toBe(`event ${middle.id} (round 1) is missing: it was deleted`);

      const other = await newApp();
      await signIn(other);
      await record(other, 2);
      await seal(other);
      const newest = (await events(other)).pop()!;
      await sql(other, `DELETE FROM audit_events WHERE id = $1`, [newest.id]);
      expect((await verify(other)).problem).toBe(`event ${newest.id} (round 1) is missing: it was deleted`);
    });

    it('notices events put in another order', async () => {
      const app = await newApp();
      await signIn(app);
      await seal(app);
      const [first, second] = await events(app);
      // Swap the two events' content: each id now holds the other one's event.
      for (const [target, source] of [
        [first, second],
        [second, first],
      ])
        await sql(app, `UPDATE audit_events SET type = $2, email = $3, details = $4 WHERE id = $1`, [
          target.id,
          source.type,
          source.email,
          JSON.stringify(source.details),
        ]);
      expect((await verify(app)).problem).toBe(`event ${first.id} (round 1) does not match its seal: it was changed`);
    });

    it('names an event inserted around the service: at an id never drawn, or too old to be a late commit', async () => {
      const app = await newApp();
      await signIn(app);
      await seal(app);
      await sql(app, `INSERT INTO audit_events (id, at, type, details) VALUES (0, $1, 'otp.verified', '{}')`, [
        new Date(),
      ]);
      expect((await verify(app)).problem).toBe('event 0 was never sealed: it was not written by the service');

      await sql(app, `DELETE FROM audit_events WHERE id = 0`);
      expect((await verify(app)).ok).toBe(true);
      await sql(app, `INSERT INTO audit_events (at, type, details) VALUES ($1, 'otp.verified', '{}')`, [
        new Date(Date.now() - 10 * 60_000),
      ]);
      const stray = (await events(app)).pop()!;
      expect((await verify(app)).problem).toBe(`event ${stray.id} was never sealed: it was not written by the service`);
    });

    it('keeps a pruned trail verifiable from its anchor, and a deleted beginning shows', async () => {
      const app = await newApp({ AUDIT_RETENTION_DAYS: '1' });
      const past = new FakeClock(Date.now() - 3 * DAY_MS);
      const pastSealer = new AuditChainService(
        app.app.get(AuditRepository, { strict: false }),
        app.app.get(Secrets),
        app.app.get(JobLock),
        past,
      );
      for (let i = 0; i < 3; i++) {
        await record(app, 1200);
        await pastSealer.sealPending();
      }
      await signIn(app);
      await seal(app);
      const before = await rounds(app);
      const counts = await app.app.get(CleanupJob).run();
      expect(counts?.auditEvents).toBe(3600);
      expect((await rounds(app)).map((round) => round.round)).toEqual(
        before.filter((round) => round.sealedAt.getTime() > Date.now() - DAY_MS).map((round) => round.round),
      );
      await seal(app);
      const report = await verify(app);
      expect(report).toMatchObject({ ok: true, rounds: { first: String(before[before.length - 1].round) } });

      const [oldest] = await rounds(app);
      await sql(app, `DELETE FROM audit_seals WHERE round = $1`, [oldest.round]);
      expect((await verify(app)).problem).toContain(`round ${oldest.round} is missing`);
    });

    it('keeps rounds sealed under an earlier SECRET_KEY verifiable when it is in SECRET_KEY_PREVIOUS', async () => {
      const app = await newApp();
      await signIn(app);
      await seal(app);
      const rotated = await newApp(
        { SECRET_KEY: randomBytes(32).toString('hex'), SECRET_KEY_PREVIOUS: app.env.SECRET_KEY },
        app,
      );
      await signIn(rotated);
      await seal(rotated);
      const keys = (await rounds(rotated)).map((round) => round.keyId);
      expect(new Set(keys).size).toBe(2);
      expect((await runCli(rotated, 'audit', 'verify')).status).toBe(0);

      const forgotten = await runCli({ env: { ...rotated.env, SECRET_KEY_PREVIOUS: '' } }, 'audit', 'verify');
      expect(forgotten.status).toBe(1);
      expect(forgotten.stdout).toContain(`round 1 was sealed with key ${keys[0]}, which is neither SECRET_KEY`);
    });

    /** The earlier form: each event carries its chain index and a seal over it and the previous seal. */
    async function sealLegacyChain(app: TestApp, count: number, at?: Date): Promise<void> {
      await record(app, count);
      if (at) await sql(app, `UPDATE audit_events SET at = $1`, [at]);
      const secrets = app.app.get(Secrets);
      let previous = '0'.repeat(64);
      for (const [i, event] of (await events(app)).entries()) {
        event.chainIndex = String(i + 1);
        event.seal = sealLegacyEvent(secrets, previous, event)!;
        previous = event.seal;
        await sql(app, `UPDATE audit_events SET chain_index = $2, seal = $3 WHERE id = $1`, [
          event.id,
          event.chainIndex,
          event.seal,
        ]);
      }
      const head = { kind: 'head' as const, chainIndex: String(count), seal: previous };
      await sql(
        app,
        `INSERT INTO audit_anchors (kind, chain_index, seal, anchor_seal, created_at) VALUES ('head', $1, $2, $3, $4)`,
        [count, previous, sealAnchor(secrets, head, secrets.auditKeyId), new Date()],
      );
    }

    it('continues a chain sealed one event at a time before rounds, which keeps verifying', async () => {
      const app = await newApp();
      await sealLegacyChain(app, 4);
      await signIn(app);
      await seal(app);
      expect(await verify(app)).toMatchObject({ ok: true, rounds: { first: '1', last: '1' } });
      expect((await runCli(app, 'audit', 'verify')).stdout).toMatch(/^audit chain intact: \d+ events verified/);

      const [legacy] = await events(app);
      await sql(app, `UPDATE audit_events SET type = 'otp.verified' WHERE id = $1`, [legacy.id]);
      expect((await verify(app)).problem).toBe(
        `event ${legacy.id} (chain index 1) does not match its seal: it was changed`,
      );
    });

    it('prunes the chain sealed one event at a time through its anchor, and rounds still link to it', async () => {
      const app = await newApp({ AUDIT_RETENTION_DAYS: '1' });
      await sealLegacyChain(app, 4, new Date(Date.now() - 3 * DAY_MS));
      await signIn(app);
      await seal(app);
      expect((await app.app.get(CleanupJob).run())?.auditEvents).toBe(4);
      expect(await sql(app, `SELECT kind, chain_index FROM audit_anchors WHERE kind = 'start'`)).toEqual([
        { kind: 'start', chain_index: postgres ? '4' : 4 },
      ]);
      await seal(app);
      expect(await verify(app)).toMatchObject({ ok: true, rounds: { first: '1' } });
    });

    it('lets one sealer seal each round, however many race for it', async () => {
      const app = await newApp();
      const unlocked = { runExclusive: (_name: string, _ttl: number, job: () => Promise<number>) => job() };
      const sealers = Array.from(
        { length: 3 },
        () =>
          new AuditChainService(
            app.app.get(AuditRepository, { strict: false }),
            app.app.get(Secrets),
            unlocked as unknown as JobLock,
            app.app.get(Clock),
          ),
      );
      for (let i = 0; i < 5; i++) {
        await record(app, 50);
        await Promise.allSettled(sealers.map((sealer) => sealer.sealPending()));
      }
      await seal(app);
      const sealed = await rounds(app);
      const ids = sealed.flatMap((round) => [...idsIn(parseRanges(round.events))]);
      expect(new Set(ids).size).toBe(ids.length);
      expect(sealed.reduce((sum, round) => sum + round.eventCount, 0)).toBe((await events(app)).length);
      expect((await verify(app)).ok).toBe(true);
    });

    if (postgres)
      it('seals a late commit in a later round, without calling it tampering', async () => {
        const app = await newApp();
        const late = new Client({ connectionString: app.env.DATABASE_URL });
        await late.connect();
        try {
          await late.query('BEGIN');
          const [{ id }] = (
            await late.query(
              `INSERT INTO audit_events (at, type, details) VALUES (now(), 'otp.requested', '{}') RETURNING id`,
            )
          ).rows;
          await signIn(app);
          await seal(app);
          const [first] = await rounds(app);
          expect(first.waiting).toContain(`[${id},${id},`);
          expect((await verify(app)).ok).toBe(true);

          await late.query('COMMIT');
          await seal(app);
          const [, second] = await rounds(app);
          expect(second.events).toBe(String(id));
          expect(second.waiting).toBe('[]');
          expect((await verify(app)).ok).toBe(true);
        } finally {
          await late.end();
        }
      });
  });
}
