// What a data-integrity review (2026-11-27) found the guards let through, each refused now to the
// platform's own role (grant-app-role's privileges, as the API and workers run), while what the
// platform does still passes: migration integrity_review_guards, and grantAppRole's TEMPORARY.
import { randomBytes } from "node:crypto";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { grantAppRole } from "./appRole.ts";
import { appRoleUrl, createTestDatabase, signCaseForTest, testServerUrl, type TestDatabase } from "./testing.ts";

let db: TestDatabase;
/** As the platform's role. */
let app: pg.Client;

beforeAll(async () => {
  db = await createTestDatabase();
  app = new pg.Client({ connectionString: await appRoleUrl(db.url) });
  await app.connect();
});
afterAll(async () => {
  await app?.end();
  await db?.drop();
});

const unique = () => randomBytes(4).toString("hex");

/** Refused by a guard (SQLSTATE 42501, as every guard raises) whose message matches `message`. */
async function refused(work: Promise<unknown>, message: RegExp) {
  await expect(work).rejects.toMatchObject({ code: "42501", message: expect.stringMatching(message) });
}

async function asOwner<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: db.url });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

/** A case in review with one analysed slide, one cell and its prediction, signed (SIGNED_OUT). */
async function seedSignedCase() {
  const p = db.prisma;
  const user = await p.user.create({ data: { login: `u-${unique()}`, displayName: "U", passwordHash: "h", role: "HEMATOLOGIST" } });
  const kase = await p.case.create({ data: { accession: `ACC-${unique()}`, status: "IN_REVIEW", createdById: user.id } });
  const slide = await p.slide.create({
    data: { caseId: kase.id, imageSha256: randomBytes(32).toString("hex"), mimeType: "image/png", byteSize: 1, width: 64, height: 64, analysisStatus: "DONE", uploadedById: user.id },
  });
  const cell = await p.cell.create({ data: { slideId: slide.id, x: 0, y: 0, width: 8, height: 8, cropSha256: "b".repeat(64), currentLabel: "car_t" } });
  const model = await p.modelVersion.create({
    data: { name: `m-${unique()}`, version: "1", labels: ["car_t", "other"], inputSize: 64, normalization: {}, architecture: {}, metrics: {}, artifactPath: "/m", artifactSha256: "c".repeat(64) },
  });
  await p.prediction.create({ data: { cellId: cell.id, modelVersionId: model.id, label: "car_t", probabilities: { car_t: 0.9 }, confidence: 0.9 } });
  await signCaseForTest(p, kase.id, { signerId: user.id });
  return { user, kase, slide, cell, model };
}

function insertSlide(c: pg.Client, caseId: string, userId: string) {
  return c.query(
    `INSERT INTO slide (id, "caseId", "imageSha256", "mimeType", "byteSize", width, height, "uploadedById", "updatedAt")
     VALUES (gen_random_uuid(), $1, $2, 'image/png', 1, 64, 64, $3, now())`,
    [caseId, randomBytes(32).toString("hex"), userId],
  );
}

function insertPrediction(c: pg.Client, cellId: string, modelId: string) {
  return c.query(
    `INSERT INTO prediction (id, "cellId", "modelVersionId", label, probabilities, confidence) VALUES (gen_random_uuid(), $1, $2, 'other', '{}', 0.5)`,
    [cellId, modelId],
  );
}

describe("integrity review guards", () => {
  it("freeze a signed case's slides and cells, and refuse it new slides and predictions, until an amendment reopens it", async () => {
    const { user, kase, slide, cell, model } = await seedSignedCase();
    const other = await db.prisma.modelVersion.create({
      data: { name: `m-${unique()}`, version: "2", labels: ["car_t", "other"], inputSize: 64, normalization: {}, architecture: {}, metrics: {}, artifactPath: "/m", artifactSha256: "d".repeat(64) },
    });
    const signedRefusals = async () => {
      await refused(insertPrediction(app, cell.id, other.id), /new "prediction" row on signed case/);
      await refused(insertSlide(app, kase.id, user.id), /new "slide" row on signed case/);
      // The workflow columns the platform moves, on any other case (an analysis failing, the label
      // cache, a review's count): all still while it is signed.
      await refused(app.query(`UPDATE slide SET "analysisStatus" = 'FAILED', "analysisError" = 'x' WHERE id = $1`, [slide.id]), /UPDATE of a "slide" row of signed case/);
      await refused(app.query(`UPDATE slide SET "updatedAt" = now() WHERE id = $1`, [slide.id]), /UPDATE of a "slide" row of signed case/);
      await refused(app.query(`UPDATE cell SET "currentLabel" = 'other' WHERE id = $1`, [cell.id]), /UPDATE of a "cell" row of signed case/);
      await refused(app.query(`UPDATE cell SET "reviewCount" = "reviewCount" + 1 WHERE id = $1`, [cell.id]), /UPDATE of a "cell" row of signed case/);
    };
    await signedRefusals();
    expect(await db.prisma.slide.findUniqueOrThrow({ where: { id: slide.id } })).toMatchObject({ analysisStatus: "DONE", analysisError: null });
    expect(await db.prisma.cell.findUniqueOrThrow({ where: { id: cell.id } })).toMatchObject({ currentLabel: "car_t", reviewCount: 0 });
    expect(await db.prisma.prediction.count({ where: { cellId: cell.id } })).toBe(1);
    expect(await db.prisma.slide.count({ where: { caseId: kase.id } })).toBe(1);
    // An update that matches no row (the platform's "... WHERE status IN (...)" guards) is no change.
    await app.query(`UPDATE slide SET "analysisStatus" = 'RUNNING' WHERE id = $1 AND "analysisStatus" IN ('PENDING', 'FAILED')`, [slide.id]);

    // The amendment reopens it (status alone, as amendCase does): everything moves again.
    await app.query(`UPDATE "case" SET status = 'IN_REVIEW' WHERE id = $1`, [kase.id]);
    await insertPrediction(app, cell.id, other.id);
    await insertSlide(app, kase.id, user.id);
    await app.query(`UPDATE slide SET "analysisStatus" = 'DONE', "updatedAt" = now() WHERE id = $1`, [slide.id]);
    await app.query(`UPDATE cell SET "currentLabel" = 'other', "reviewCount" = 1 WHERE id = $1`, [cell.id]);
    // Signed again as version 2 (AMENDED, with its signature): frozen again.
    await signCaseForTest(db.prisma, kase.id, { signerId: user.id });
    await refused(app.query(`UPDATE cell SET "currentLabel" = 'car_t' WHERE id = $1`, [cell.id]), /UPDATE of a "cell" row of signed case/);
    await refused(insertPrediction(app, cell.id, model.id), /new "prediction" row on signed case/);
    await refused(insertSlide(app, kase.id, user.id), /new "slide" row on signed case/);
  });

  it("stamp a prediction with the database's clock, whatever time the client sends: the newest call does not depend on the worker host", async () => {
    const { cell, model, kase } = await seedSignedCase();
    await db.prisma.case.update({ where: { id: kase.id }, data: { status: "IN_REVIEW" } });
    const [row] = await db.prisma.$queryRaw<{ now: Date }[]>`SELECT date_trunc('milliseconds', clock_timestamp() AT TIME ZONE 'UTC') AS now`;
    const now = row!.now;
    // A worker whose clock is a day behind, then one a day ahead.
    for (const skew of [-86_400_000, 86_400_000]) {
      await new Promise((ok) => setTimeout(ok, 5)); // a later millisecond, so the order below is by time
      const p = await db.prisma.prediction.create({
        data: { cellId: cell.id, modelVersionId: model.id, round: skew < 0 ? 2 : 3, label: "other", probabilities: {}, confidence: 0.5, createdAt: new Date(Date.now() + skew) },
      });
      expect(Math.abs(p.createdAt.getTime() - now.getTime())).toBeLessThan(60_000);
      const stored = await db.prisma.prediction.findUniqueOrThrow({ where: { id: p.id } });
      expect(stored.createdAt.getTime()).toBeGreaterThanOrEqual(now.getTime());
      expect(stored.createdAt.getTime() - now.getTime()).toBeLessThan(60_000);
    }
    // So the rows sort in the order they were written.
    const calls = await db.prisma.prediction.findMany({ where: { cellId: cell.id }, orderBy: [{ createdAt: "desc" }, { id: "desc" }] });
    expect(calls.map((c) => c.round)).toEqual([3, 2, 1]);
  });

  it("stamp reviews, dataset snapshots, promotions and training runs (queued, started, ended) with the database's clock, whatever time the client sends", async () => {
    const { user, cell, model, kase } = await seedSignedCase();
    await db.prisma.case.update({ where: { id: kase.id }, data: { status: "IN_REVIEW" } });
    const databaseNow = async () =>
      (await db.prisma.$queryRaw<{ now: Date }[]>`SELECT date_trunc('milliseconds', clock_timestamp() AT TIME ZONE 'UTC') AS now`)[0]!.now.getTime();
    const from = await databaseNow();
    /** Stamped between `from` and now by the database's clock, not `wrong` (a host a day off). */
    const fromDatabase = async (at: Date | null | undefined) => {
      expect(at).toBeInstanceOf(Date);
      expect(at!.getTime()).toBeGreaterThanOrEqual(from);
      expect(at!.getTime()).toBeLessThanOrEqual(await databaseNow());
    };
    for (const skew of [-86_400_000, 86_400_000]) {
      const wrong = () => new Date(Date.now() + skew);
      const seq = skew < 0 ? 1 : 2;
      const review = await db.prisma.review.create({ data: { cellId: cell.id, seq, reviewerId: user.id, action: "CONFIRM", label: "car_t", createdAt: wrong() } });
      await fromDatabase((await db.prisma.review.findUniqueOrThrow({ where: { id: review.id } })).createdAt);
      const snapshot = await db.prisma.datasetSnapshot.create({ data: { name: `s-${seq}`, labels: ["car_t"], itemCount: 0, contentHash: "h", createdById: user.id, createdAt: wrong() } });
      await fromDatabase((await db.prisma.datasetSnapshot.findUniqueOrThrow({ where: { id: snapshot.id } })).createdAt);
      const promotion = await db.prisma.modelPromotion.create({
        data: { modelVersionId: model.id, kind: "PROMOTE", reason: "r", proposedById: user.id, proposedAt: wrong(), state: "REJECTED", decidedById: user.id, decidedAt: wrong() },
      });
      const storedPromotion = await db.prisma.modelPromotion.findUniqueOrThrow({ where: { id: promotion.id } });
      await fromDatabase(storedPromotion.proposedAt);
      await fromDatabase(storedPromotion.decidedAt);
      // As the platform's role: queued by the API, started and ended by a worker.
      const run = await db.prisma.trainingRun.create({ data: { snapshotId: snapshot.id, config: {}, startedById: user.id, createdAt: wrong() } });
      await app.query(`UPDATE training_run SET status = 'RUNNING', "startedAt" = $2 WHERE id = $1`, [run.id, wrong()]);
      await app.query(`UPDATE training_run SET progress = 0.5 WHERE id = $1`, [run.id]);
      await app.query(`UPDATE training_run SET status = 'SUCCEEDED', "finishedAt" = $2 WHERE id = $1`, [run.id, wrong()]);
      const stored = await db.prisma.trainingRun.findUniqueOrThrow({ where: { id: run.id } });
      for (const at of [stored.createdAt, stored.startedAt, stored.finishedAt]) await fromDatabase(at);
      expect(stored.createdAt.getTime()).toBeLessThanOrEqual(stored.startedAt!.getTime());
      expect(stored.startedAt!.getTime()).toBeLessThanOrEqual(stored.finishedAt!.getTime());
      // Inserted started and ended (a console insert): those times are the database's too.
      const inserted = await db.prisma.trainingRun.create({
        data: { snapshotId: snapshot.id, config: {}, startedById: user.id, status: "CANCELLED", createdAt: wrong(), startedAt: wrong(), finishedAt: wrong() },
      });
      for (const at of [inserted.createdAt, inserted.startedAt, inserted.finishedAt]) await fromDatabase(at);
    }
    // A queued run cancelled before it started keeps no start.
    const snapshot = await db.prisma.datasetSnapshot.findFirstOrThrow({ where: { name: "s-1" } });
    const never = await db.prisma.trainingRun.create({ data: { snapshotId: snapshot.id, config: {}, startedById: user.id } });
    await app.query(`UPDATE training_run SET status = 'CANCELLED', "finishedAt" = '2001-01-01' WHERE id = $1`, [never.id]);
    const cancelled = await db.prisma.trainingRun.findUniqueOrThrow({ where: { id: never.id } });
    expect(cancelled.startedAt).toBeNull();
    await fromDatabase(cancelled.finishedAt);
  });

  it("pin every guard's search path: a temporary table cannot stand in for the case or the audit trail", async () => {
    // A session that can create temporary tables (the owner here; the platform's role no longer
    // can): its temporary "case" says nothing is signed, its "audit_event" fakes the chain's head.
    const { user, slide } = await seedSignedCase();
    await db.prisma.auditEvent.create({ data: { actorLogin: "system", action: "test.event", entityType: "Test", entityId: "before" } });
    const head = (await db.prisma.auditEvent.findFirstOrThrow({ orderBy: { seq: "desc" } }));
    await asOwner(async (c) => {
      await c.query(`CREATE TEMP TABLE "case" (id uuid, accession text, status text)`);
      await c.query(`CREATE TEMP TABLE "audit_event" (seq bigint, hash text)`);
      await c.query(`INSERT INTO pg_temp."audit_event" VALUES (1000, repeat('f', 64))`);
      await refused(
        c.query(`INSERT INTO public.cell (id, "slideId", x, y, width, height, "cropSha256") VALUES (gen_random_uuid(), $1, 50, 50, 8, 8, 'e')`, [slide.id]),
        /new "cell" row on signed case/,
      );
      const { rows } = await c.query(
        `INSERT INTO public.audit_event ("actorId", "actorLogin", action, "entityType", "entityId") VALUES ($1, 'u', 'test.event', 'Test', 'after')
         RETURNING seq::text, "prevHash"`,
        [user.id],
      );
      expect(rows[0]).toEqual({ seq: String(head.seq + 1n), prevHash: head.hash });
      const { rows: verified } = await c.query(`SELECT ok FROM audit_verify()`);
      expect(verified[0].ok).toBe(true);
    });

    // Every function the migrations define (the guards, the audit chain and its verifiers).
    const { rows: fns } = await asOwner((c) =>
      c.query<{ fn: string; config: string[] | null }>(
        `SELECT p.oid::regprocedure::text AS fn, p.proconfig AS config FROM pg_proc p
         WHERE p.pronamespace = 'public'::regnamespace
           AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e') ORDER BY 1`,
      ),
    );
    expect(fns.map((f) => f.fn)).toEqual(expect.arrayContaining(["refuse_row_on_signed_case()", "audit_event_chain()", "refuse_identity_change()"]));
    for (const f of fns) expect(f.config, f.fn).toEqual(["search_path=public, pg_temp"]);
  });

  it("take temporary tables away from the platform's role (granted to PUBLIC, so revoked there)", async () => {
    await expect(app.query(`CREATE TEMP TABLE "case" (id uuid, accession text, status text)`)).rejects.toThrow(/permission denied to create temporary tables/);
    const { rows } = await app.query(`SELECT has_database_privilege(current_user, current_database(), 'TEMPORARY') AS temp`);
    expect(rows[0].temp).toBe(false);
  });

  it("grant, and say so, when the tables' owner cannot take TEMPORARY away; take it once the database's owner has", async () => {
    // A real install: the tables owned by a role that does not own the database.
    const other = await createTestDatabase();
    const owner = `rcmnet_owner_${unique()}`;
    const role = `rcmnet_app_${unique()}`;
    const server = async (sql: string) => {
      const c = new pg.Client({ connectionString: testServerUrl });
      await c.connect();
      await c.query(sql).finally(() => c.end());
    };
    await server(`CREATE ROLE ${owner} LOGIN; CREATE ROLE ${role} LOGIN`);
    try {
      const c = new pg.Client({ connectionString: other.url });
      await c.connect();
      try {
        const { rows } = await c.query<{ t: string }>(`SELECT quote_ident(tablename) AS t FROM pg_tables WHERE schemaname = 'public'`);
        for (const { t } of rows) await c.query(`ALTER TABLE ${t} OWNER TO ${owner}`);
        const url = new URL(other.url);
        url.username = owner;
        // Granted (an upgraded install still starts), with what is left to do.
        expect((await grantAppRole(url.toString(), role)).warning).toMatch(new RegExp(`${role} can still create temporary tables.*REVOKE TEMPORARY ON DATABASE`));
        const { rows: granted } = await c.query(`SELECT has_table_privilege($1, 'case', 'SELECT') AS s`, [role]);
        expect(granted[0].s).toBe(true);
        await c.query(`REVOKE TEMPORARY ON DATABASE ${other.name} FROM PUBLIC`);
        expect((await grantAppRole(url.toString(), role)).warning).toBeNull();
        const { rows: after } = await c.query(
          `SELECT has_table_privilege($1, 'case', 'SELECT') AS s, has_database_privilege($1, current_database(), 'TEMPORARY') AS temp`,
          [role],
        );
        expect(after[0]).toEqual({ s: true, temp: false });
      } finally {
        await c.end();
      }
    } finally {
      await other.drop();
      await server(`DROP ROLE IF EXISTS ${role}; DROP ROLE IF EXISTS ${owner}`);
    }
  });

  it("keep one champion at most; archiving the old one first, in one transaction, still promotes", async () => {
    const { model: a } = await seedSignedCase();
    const { model: b } = await seedSignedCase();
    await app.query(`UPDATE model_version SET status = 'ARCHIVED' WHERE status = 'CHAMPION'`);
    await app.query(`UPDATE model_version SET status = 'CHAMPION' WHERE id = $1`, [a.id]);
    await expect(app.query(`UPDATE model_version SET status = 'CHAMPION' WHERE id = $1`, [b.id])).rejects.toMatchObject({
      code: "23505",
      message: expect.stringMatching(/model_version_one_champion_key/),
    });
    await expect(
      app.query(
        `INSERT INTO model_version (id, name, version, labels, "inputSize", normalization, architecture, metrics, "artifactPath", "artifactSha256", status)
         VALUES (gen_random_uuid(), $1, '1', ARRAY['car_t'], 64, '{}', '{}', '{}', '/m', repeat('0', 64), 'CHAMPION')`,
        [`m-${unique()}`],
      ),
    ).rejects.toMatchObject({ code: "23505" });
    // setChampion's order: the old champion archived, then the new one promoted.
    await app.query("BEGIN");
    await app.query(`UPDATE model_version SET status = 'ARCHIVED' WHERE id = $1`, [a.id]);
    await app.query(`UPDATE model_version SET status = 'CHAMPION' WHERE id = $1`, [b.id]);
    await app.query("COMMIT");
    const { rows } = await app.query(`SELECT id FROM model_version WHERE status = 'CHAMPION'`);
    expect(rows).toEqual([{ id: b.id }]);
  });

  it("never change a user's login or creation time, nor delete a user; the account's state still moves", async () => {
    const { user } = await seedSignedCase();
    await refused(app.query(`UPDATE "user" SET login = 'renamed' WHERE id = $1`, [user.id]), /UPDATE of the identity of a "user" row refused/);
    await refused(app.query(`UPDATE "user" SET "createdAt" = '2001-01-01' WHERE id = $1`, [user.id]), /UPDATE of the identity of a "user" row refused/);
    await app.query(
      `UPDATE "user" SET "displayName" = 'Dr U', role = 'ADMIN', disabled = true, "failedLogins" = 2, "lockedUntil" = now(),
         "passwordHash" = 'h2', "passwordChangedAt" = now(), "mustChangePassword" = true, "updatedAt" = now() WHERE id = $1`,
      [user.id],
    );
    // The platform's role may not delete at all (privileges); the owner, whose triggers still stand
    // behind it (the embedded database runs as it), is refused by them.
    await asOwner(async (c) => {
      await refused(c.query(`DELETE FROM "user" WHERE id = $1`, [user.id]), /DELETE of the identity of a "user" row refused/);
      await refused(c.query(`TRUNCATE "user" CASCADE`), /TRUNCATE of the identity of a "user" row refused/);
    });
    expect(await db.prisma.user.findUniqueOrThrow({ where: { id: user.id } })).toMatchObject({ login: user.login, createdAt: user.createdAt, displayName: "Dr U" });
  });

  it("freeze a training run once its end is committed; the transaction that ends it may still write its last log lines", async () => {
    const { user } = await seedSignedCase();
    const snapshot = await db.prisma.datasetSnapshot.create({ data: { name: "s", labels: ["car_t"], itemCount: 0, contentHash: "h", createdById: user.id } });
    for (const end of ["SUCCEEDED", "FAILED", "CANCELLED"]) {
      const run = await db.prisma.trainingRun.create({ data: { snapshotId: snapshot.id, config: {}, startedById: user.id } });
      // As the worker: started, progress and log while running, cancel requested.
      await app.query(`UPDATE training_run SET status = 'RUNNING', "startedAt" = now() WHERE id = $1 AND status = 'QUEUED'`, [run.id]);
      await app.query(`UPDATE training_run SET progress = 0.5, metrics = '{"history": []}', log = log || 'epoch 1\n', "cancelRequested" = true WHERE id = $1`, [run.id]);
      // Ended, then the last log line, in one transaction (finishSucceeded, finishCancelled).
      await app.query("BEGIN");
      await app.query(`UPDATE training_run SET status = $2, "finishedAt" = now(), progress = 1 WHERE id = $1 AND status IN ('QUEUED', 'RUNNING')`, [run.id, end]);
      await app.query(`UPDATE training_run SET log = log || 'done\n' WHERE id = $1`, [run.id]);
      await app.query("COMMIT");
      for (const change of [`log = log || 'late\n'`, `status = 'RUNNING'`, `metrics = '{}'`, `progress = 0`, `error = 'x'`, `"finishedAt" = now()`, `"cancelRequested" = false`]) {
        await refused(app.query(`UPDATE training_run SET ${change} WHERE id = $1`, [run.id]), /UPDATE of the identity of a "training_run" row refused/);
      }
      const { rows } = await app.query(`SELECT status::text, log, progress FROM training_run WHERE id = $1`, [run.id]);
      expect(rows[0]).toEqual({ status: end, log: "epoch 1\ndone\n", progress: 1 });
    }
  });
});
