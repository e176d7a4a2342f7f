// "Signed" is tied to a signature (migration signature_integrity): a case moves to SIGNED_OUT or
// AMENDED only with the sign_off of its new report version, its report version moves only so, a
// sign_off comes in sequence and only with its case's signing, and review counts never fall. Each
// refusal is made as the platform's own role (grant-app-role's privileges, as the API runs) and
// leaves the stored rows as they were; the platform's own sequence (sign, amend, sign) passes.
import { createHash, randomBytes } from "node:crypto";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { applyMigrations } from "./migrations/applyMigrations.ts";
import { readMigrationFiles } from "./migrations/migrationFiles.ts";
import { appRoleUrl, createTestDatabase, signCaseForTest, testServerUrl, withDatabaseName, type TestDatabase } from "./testing.ts";

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
const sha = (s: string) => createHash("sha256").update(s).digest("hex");

/** Refused by a guard (SQLSTATE 42501, as every guard raises) whose message matches `message`. */
async function refused(work: Promise<unknown>, message: RegExp, code = "42501") {
  await expect(work).rejects.toMatchObject({ code, message: expect.stringMatching(message) });
}

/** One transaction as the platform's role: committed, or rolled back on the first error (the commit's included). */
async function inTransaction(fn: () => Promise<unknown>): Promise<void> {
  await app.query("BEGIN");
  try {
    await fn();
  } catch (err) {
    await app.query("ROLLBACK");
    throw err;
  }
  await app.query("COMMIT"); // a failed COMMIT ends the transaction (rolled back) by itself
}

/** A case in review with one slide and one cell, by a hematologist who signs it. */
async function seedCase() {
  const p = db.prisma;
  const user = await p.user.create({ data: { login: `h-${unique()}`, displayName: "Dr S", passwordHash: "h", role: "HEMATOLOGIST" } });
  const kase = await p.case.create({ data: { accession: `SIG-${unique()}`, status: "IN_REVIEW", createdById: user.id } });
  const slide = await p.slide.create({
    data: { caseId: kase.id, imageSha256: randomBytes(32).toString("hex"), mimeType: "image/png", byteSize: 1, width: 64, height: 64, analysisStatus: "DONE", uploadedById: user.id },
  });
  const cell = await p.cell.create({ data: { slideId: slide.id, x: 0, y: 0, width: 8, height: 8, cropSha256: "b".repeat(64), currentLabel: "car_t", reviewCount: 1 } });
  await p.review.create({ data: { cellId: cell.id, seq: 1, reviewerId: user.id, action: "CONFIRM", label: "car_t" } });
  return { user, kase, cell };
}

/** Inserts a sign_off as signOffCase does (version, supersedes, hash as given). */
async function insertSignOff(caseId: string, signerId: string, version: number, supersedesId: string | null, contentSha256 = sha(`${caseId}/${version}`)) {
  const { rows } = await app.query<{ id: string }>(
    `INSERT INTO sign_off (id, "caseId", version, "signerId", "signerName", meaning, content, "contentSha256", "supersedesId")
     VALUES (gen_random_uuid(), $1, $2, $3, 'Dr S', 'Reviewed and approved', '{}', $4, $5) RETURNING id`,
    [caseId, version, signerId, contentSha256, supersedesId],
  );
  return rows[0]!.id;
}

/** Signs as signOffCase does: the sign_off first, then the case moved, in one transaction. */
async function sign(caseId: string, signerId: string, version: number, supersedesId: string | null): Promise<string> {
  let id = "";
  await inTransaction(async () => {
    id = await insertSignOff(caseId, signerId, version, supersedesId);
    await app.query(`UPDATE "case" SET status = $2, "reportVersion" = $3 WHERE id = $1`, [caseId, version === 1 ? "SIGNED_OUT" : "AMENDED", version]);
  });
  return id;
}

/** What a refusal must leave as it was: the case, its signatures, its cell. */
async function stored(caseId: string) {
  const { rows } = await app.query(
    `SELECT (SELECT row_to_json(k) FROM "case" k WHERE k.id = $1) AS kase,
            (SELECT json_agg(s ORDER BY s.version) FROM sign_off s WHERE s."caseId" = $1) AS signatures,
            (SELECT json_agg(c ORDER BY c.id) FROM cell c JOIN slide sl ON sl.id = c."slideId" WHERE sl."caseId" = $1) AS cells`,
    [caseId],
  );
  return rows[0];
}

describe("signature integrity", () => {
  it("lets the platform's sequence through: sign version 1, amend, sign version 2, as signOffCase and amendCase write them", async () => {
    const { user, kase } = await seedCase();
    const v1 = await sign(kase.id, user.id, 1, null);
    expect(await db.prisma.case.findUniqueOrThrow({ where: { id: kase.id } })).toMatchObject({ status: "SIGNED_OUT", reportVersion: 1 });
    // The amendment: status alone, the report version stays.
    await app.query(`UPDATE "case" SET status = 'IN_REVIEW' WHERE id = $1`, [kase.id]);
    // Images uploaded into the amendment are analysed, and the case comes back for review.
    await app.query(`UPDATE "case" SET status = 'ANALYZING' WHERE id = $1`, [kase.id]);
    await app.query(`UPDATE "case" SET status = 'IN_REVIEW', priority = 'URGENT' WHERE id = $1`, [kase.id]);
    const v2 = await sign(kase.id, user.id, 2, v1);
    await app.query(`UPDATE "case" SET status = 'IN_REVIEW' WHERE id = $1`, [kase.id]);
    await sign(kase.id, user.id, 3, v2);
    expect(await db.prisma.case.findUniqueOrThrow({ where: { id: kase.id } })).toMatchObject({ status: "AMENDED", reportVersion: 3 });
    expect((await db.prisma.signOff.findMany({ where: { caseId: kase.id }, orderBy: { version: "asc" } })).map((s) => [s.version, s.supersedesId])).toEqual([
      [1, null],
      [2, v1],
      [3, v2],
    ]);
    // The fixture tests sign with does the same.
    const other = await seedCase();
    await signCaseForTest(db.prisma, other.kase.id);
    await db.prisma.case.update({ where: { id: other.kase.id }, data: { status: "IN_REVIEW" } });
    expect((await signCaseForTest(db.prisma, other.kase.id)).case).toMatchObject({ status: "AMENDED", reportVersion: 2 });
  });

  it("refuses moving a case to SIGNED_OUT or AMENDED without the sign_off of its new version, changing nothing", async () => {
    const { user, kase } = await seedCase();
    const before = await stored(kase.id);
    await refused(app.query(`UPDATE "case" SET status = 'SIGNED_OUT', "reportVersion" = 1 WHERE id = $1`, [kase.id]), /signing case SIG-\w+ as SIGNED_OUT at report version 1 refused: no signature \(sign_off\) of that case and version/);
    // Nor by the status alone (the report version left at 0), nor straight to AMENDED.
    await refused(app.query(`UPDATE "case" SET status = 'SIGNED_OUT' WHERE id = $1`, [kase.id]), /at report version 0 refused: a signature raises the report version by exactly one \(from 0 to 1\)/);
    await refused(app.query(`UPDATE "case" SET status = 'AMENDED', "reportVersion" = 1 WHERE id = $1`, [kase.id]), /as AMENDED at report version 1 refused: AMENDED is a signed amendment \(version 2 on\)/);
    expect(await stored(kase.id)).toEqual(before);

    // Another case's signature does not sign this one.
    const other = await seedCase();
    await sign(other.kase.id, other.user.id, 1, null);
    await refused(app.query(`UPDATE "case" SET status = 'SIGNED_OUT', "reportVersion" = 1 WHERE id = $1`, [kase.id]), /no signature \(sign_off\) of that case and version/);
    expect(await stored(kase.id)).toEqual(before);

    // A case is not born signed either.
    await refused(
      app.query(`INSERT INTO "case" (id, accession, status, "reportVersion", "createdById", "updatedAt") VALUES (gen_random_uuid(), $1, 'SIGNED_OUT', 1, $2, now())`, [`SIG-${unique()}`, user.id]),
      /a new case SIG-\w+ with status SIGNED_OUT at report version 1 refused: a case starts unsigned at report version 0/,
    );
    await refused(
      app.query(`INSERT INTO "case" (id, accession, status, "reportVersion", "createdById", "updatedAt") VALUES (gen_random_uuid(), $1, 'IN_REVIEW', 2, $2, now())`, [`SIG-${unique()}`, user.id]),
      /with status IN_REVIEW at report version 2 refused/,
    );
    expect(await db.prisma.case.count({ where: { createdById: user.id } })).toBe(1);
  });

  it("refuses an AMENDED whose version does not match its signature or skips one, and SIGNED_OUT for an amendment, changing nothing", async () => {
    const { user, kase } = await seedCase();
    const v1 = await sign(kase.id, user.id, 1, null);
    await app.query(`UPDATE "case" SET status = 'IN_REVIEW' WHERE id = $1`, [kase.id]);
    const before = await stored(kase.id);
    // No version 2 signed: AMENDED at 2 is a claim with nothing behind it.
    await refused(app.query(`UPDATE "case" SET status = 'AMENDED', "reportVersion" = 2 WHERE id = $1`, [kase.id]), /signing case SIG-\w+ as AMENDED at report version 2 refused: no signature \(sign_off\)/);
    // Version 2 signed, but the case claims another version, or the status of a first report.
    await refused(
      inTransaction(async () => {
        await insertSignOff(kase.id, user.id, 2, v1);
        await app.query(`UPDATE "case" SET status = 'AMENDED', "reportVersion" = 3 WHERE id = $1`, [kase.id]);
      }),
      /as AMENDED at report version 3 refused: a signature raises the report version by exactly one \(from 1 to 2\)/,
    );
    await refused(
      inTransaction(async () => {
        await insertSignOff(kase.id, user.id, 2, v1);
        await app.query(`UPDATE "case" SET status = 'AMENDED' WHERE id = $1`, [kase.id]);
      }),
      /as AMENDED at report version 1 refused: a signature raises the report version by exactly one/,
    );
    await refused(
      inTransaction(async () => {
        await insertSignOff(kase.id, user.id, 2, v1);
        await app.query(`UPDATE "case" SET status = 'SIGNED_OUT', "reportVersion" = 2 WHERE id = $1`, [kase.id]);
      }),
      /as SIGNED_OUT at report version 2 refused: SIGNED_OUT is the first report \(version 1\); a later version is an amendment, signed AMENDED/,
    );
    expect(await stored(kase.id)).toEqual(before);
    // And then as it should be.
    await sign(kase.id, user.id, 2, v1);
  });

  it("refuses a report version lowered, raised without a signing, or moved by the signing by more than one, changing nothing", async () => {
    const { user, kase } = await seedCase();
    const before = await stored(kase.id);
    await refused(app.query(`UPDATE "case" SET "reportVersion" = 1 WHERE id = $1`, [kase.id]), /changing the report version of case SIG-\w+ from 0 to 1 \(status IN_REVIEW to IN_REVIEW\) refused: it moves only by one, when a signature signs the case/);
    await refused(app.query(`UPDATE "case" SET "reportVersion" = -1 WHERE id = $1`, [kase.id]), /from 0 to -1/);
    expect(await stored(kase.id)).toEqual(before);

    await sign(kase.id, user.id, 1, null);
    await app.query(`UPDATE "case" SET status = 'IN_REVIEW' WHERE id = $1`, [kase.id]);
    const amending = await stored(kase.id);
    // Open for version 2: its report version stays 1 until version 2 is signed.
    await refused(app.query(`UPDATE "case" SET "reportVersion" = 0 WHERE id = $1`, [kase.id]), /from 1 to 0 \(status IN_REVIEW to IN_REVIEW\) refused/);
    await refused(app.query(`UPDATE "case" SET "reportVersion" = 2 WHERE id = $1`, [kase.id]), /from 1 to 2 \(status IN_REVIEW to IN_REVIEW\) refused/);
    await refused(app.query(`UPDATE "case" SET status = 'ANALYZING', "reportVersion" = 0 WHERE id = $1`, [kase.id]), /from 1 to 0 \(status IN_REVIEW to ANALYZING\) refused/);
    // A signing that jumps a version, its signatures in sequence all the same.
    await refused(
      inTransaction(async () => {
        const v1 = (await db.prisma.signOff.findUniqueOrThrow({ where: { caseId_version: { caseId: kase.id, version: 1 } } })).id;
        const v2 = await insertSignOff(kase.id, user.id, 2, v1);
        await insertSignOff(kase.id, user.id, 3, v2);
        await app.query(`UPDATE "case" SET status = 'AMENDED', "reportVersion" = 3 WHERE id = $1`, [kase.id]);
      }),
      /as AMENDED at report version 3 refused: a signature raises the report version by exactly one \(from 1 to 2\)/,
    );
    expect(await stored(kase.id)).toEqual(amending);
  });

  it("refuses a sign_off out of sequence, superseding the wrong version, or with a malformed hash, storing nothing", async () => {
    const { user, kase } = await seedCase();
    const other = await seedCase();
    const otherV1 = await sign(other.kase.id, other.user.id, 1, null);
    const before = await stored(kase.id);
    // Each attempt in a transaction that would also sign the case, as signOffCase's would.
    const attempt = (version: number, supersedesId: string | null, hash?: string) =>
      inTransaction(async () => {
        await insertSignOff(kase.id, user.id, version, supersedesId, hash);
        await app.query(`UPDATE "case" SET status = $2, "reportVersion" = $3 WHERE id = $1`, [kase.id, version === 1 ? "SIGNED_OUT" : "AMENDED", version]);
      });
    await refused(attempt(2, otherV1), /signature \(sign_off\) version 2 of case SIG-\w+ refused: out of sequence, the next version of its report is 1/);
    await refused(attempt(0, null), /version 0 of case SIG-\w+ refused: out of sequence, the next version of its report is 1/);
    await refused(attempt(1, otherV1), /version 1 of case SIG-\w+ refused: a first report supersedes nothing, yet it names sign_off [0-9a-f-]{36} \(supersedesId must be null\)/);
    for (const hash of ["D".repeat(64), "d".repeat(63), `${"d".repeat(63)}g`, `${"d".repeat(64)}0`, ""]) {
      await refused(attempt(1, null, hash), /violates check constraint "sign_off_content_sha256_hex"/, "23514");
    }
    expect(await stored(kase.id)).toEqual(before);

    const v1 = await sign(kase.id, user.id, 1, null);
    await app.query(`UPDATE "case" SET status = 'IN_REVIEW' WHERE id = $1`, [kase.id]);
    const amending = await stored(kase.id);
    await refused(attempt(3, v1), /version 3 of case SIG-\w+ refused: out of sequence, the next version of its report is 2/);
    await refused(attempt(2, null), /version 2 of case SIG-\w+ refused: it must supersede version 1 of the same case \(sign_off [0-9a-f-]{36}\), not nothing/);
    await refused(attempt(2, otherV1), new RegExp(`version 2 of case SIG-\\w+ refused: it must supersede version 1 of the same case \\(sign_off ${v1}\\), not ${otherV1}`));
    // A version already signed: the unique key (caseId, version) refuses it, as signOffCase expects of a race.
    await expect(attempt(1, null)).rejects.toMatchObject({ code: "23505" });
    expect(await stored(kase.id)).toEqual(amending);
  });

  it("refuses a sign_off left without its case's signing (at commit), and keeps sign_offs immutable", async () => {
    const { user, kase } = await seedCase();
    const before = await stored(kase.id);
    // In sequence, but the case never moves: checked when the transaction commits.
    await refused(
      insertSignOff(kase.id, user.id, 1, null),
      /signature \(sign_off\) version 1 of case SIG-\w+ refused at commit: the case was not signed with it \(it is IN_REVIEW at report version 0\)/,
    );
    await refused(inTransaction(() => insertSignOff(kase.id, user.id, 1, null)), /refused at commit: the case was not signed with it/);
    expect(await stored(kase.id)).toEqual(before);

    const v1 = await sign(kase.id, user.id, 1, null);
    const signed = await stored(kase.id);
    // The platform's role may not UPDATE or DELETE a sign_off at all; the tables' owner meets the trigger.
    await refused(app.query(`UPDATE sign_off SET "contentSha256" = $2 WHERE id = $1`, [v1, "e".repeat(64)]), /permission denied for table sign_off/);
    await refused(app.query(`DELETE FROM sign_off WHERE id = $1`, [v1]), /permission denied for table sign_off/);
    await expect(db.prisma.$executeRawUnsafe(`UPDATE sign_off SET version = 2 WHERE id = '${v1}'`)).rejects.toThrow(/UPDATE on "sign_off" refused: these records are append-only/);
    await expect(db.prisma.$executeRawUnsafe(`DELETE FROM sign_off WHERE id = '${v1}'`)).rejects.toThrow(/DELETE on "sign_off" refused: these records are append-only/);
    expect(await stored(kase.id)).toEqual(signed);
  });

  it("refuses a sign_off dated other than by the database's clock (backdated a day, or ahead), storing nothing; one dated from it signs", async () => {
    const { user, kase } = await seedCase();
    const before = await stored(kase.id);
    const dated = (at: string) =>
      inTransaction(async () => {
        await app.query(
          `INSERT INTO sign_off (id, "caseId", version, "signerId", "signerName", meaning, content, "contentSha256", "signedAt")
           VALUES (gen_random_uuid(), $1, 1, $2, 'Dr S', 'Reviewed and approved', '{}', $3, ${at})`,
          [kase.id, user.id, sha(`${kase.id}/1`)],
        );
        await app.query(`UPDATE "case" SET status = 'SIGNED_OUT', "reportVersion" = 1 WHERE id = $1`, [kase.id]);
      });
    const message = new RegExp(`signature \\(sign_off\\) version 1 of case ${kase.accession} refused: dated .*, but the database's clock reads`);
    await refused(dated(`(clock_timestamp() AT TIME ZONE 'UTC') - interval '1 day'`), message);
    await refused(dated(`(clock_timestamp() AT TIME ZONE 'UTC') + interval '1 hour'`), message);
    expect(await stored(kase.id)).toEqual(before);
    // As signOffCase dates it: the database's clock, read in the inserting transaction.
    await dated(`date_trunc('milliseconds', clock_timestamp() AT TIME ZONE 'UTC')`);
    expect(await db.prisma.case.findUniqueOrThrow({ where: { id: kase.id } })).toMatchObject({ status: "SIGNED_OUT", reportVersion: 1 });
  });

  it("refuses lowering a cell's review count (or a negative one); it still grows", async () => {
    const { kase, cell } = await seedCase();
    const before = await stored(kase.id);
    await refused(app.query(`UPDATE cell SET "reviewCount" = 0 WHERE id = $1`, [cell.id]), /lowering the review count of cell [0-9a-f-]{36} from 1 to 0 refused: reviews are append-only, so a cell's review count only grows/);
    await refused(app.query(`UPDATE cell SET "reviewCount" = "reviewCount" - 1, "currentLabel" = NULL WHERE id = $1`, [cell.id]), /from 1 to 0 refused/);
    expect(await stored(kase.id)).toEqual(before);
    await refused(
      app.query(`INSERT INTO cell (id, "slideId", x, y, width, height, "cropSha256", "reviewCount") SELECT gen_random_uuid(), "slideId", 50, 50, 8, 8, 'c', -1 FROM cell WHERE id = $1`, [cell.id]),
      /violates check constraint "cell_review_count_not_negative"/,
      "23514",
    );
    expect(await stored(kase.id)).toEqual(before);
    // As a review does: the next decision, its count one up; a label change alone leaves it.
    await app.query(`INSERT INTO review (id, "cellId", seq, "reviewerId", action, label, "previousLabel", reason) VALUES (gen_random_uuid(), $1, 2, $2, 'RECLASSIFY', 'lymphocyte', 'car_t', 'x')`, [cell.id, kase.createdById]);
    await app.query(`UPDATE cell SET "reviewCount" = "reviewCount" + 1, "currentLabel" = 'lymphocyte' WHERE id = $1`, [cell.id]);
    await app.query(`UPDATE cell SET "currentLabel" = 'lymphocyte' WHERE id = $1`, [cell.id]);
    expect(await db.prisma.cell.findUniqueOrThrow({ where: { id: cell.id } })).toMatchObject({ reviewCount: 2, currentLabel: "lymphocyte" });
  });

  it("are not installed over records that already break them: the migration names those and changes nothing", async () => {
    const name = `rcmnet_sigmig_${unique()}`;
    const admin = new pg.Client({ connectionString: testServerUrl });
    await admin.connect();
    await admin.query(`CREATE DATABASE "${name}"`);
    const url = withDatabaseName(testServerUrl, name);
    const c = new pg.Client({ connectionString: url });
    try {
      const files = await readMigrationFiles();
      const at = files.findIndex((f) => f.name.endsWith("_signature_integrity"));
      await applyMigrations(url, files.slice(0, at));
      await c.connect();
      // Signed by hand before the guards: no signature behind it.
      await c.query(`INSERT INTO "user" (id, login, "displayName", "passwordHash", role, "updatedAt") VALUES (gen_random_uuid(), 'h', 'H', 'x', 'HEMATOLOGIST', now())`);
      await c.query(`INSERT INTO "case" (id, accession, status, "reportVersion", "createdById", "updatedAt") SELECT gen_random_uuid(), 'LEGACY-1', 'SIGNED_OUT', 1, id, now() FROM "user"`);
      await expect(applyMigrations(url, files.slice(0, at + 1))).rejects.toThrow(
        /signature_integrity not applied: .*case LEGACY-1 is SIGNED_OUT at report version 1, with no signature \(sign_off\) of that version.*nothing was changed/,
      );
      const { rows } = await c.query(`SELECT count(*)::int AS n FROM pg_trigger WHERE tgname IN ('sign_off_in_sequence', 'case_signed_with_signature')`);
      expect(rows[0].n).toBe(0);
    } finally {
      await c.end();
      await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await admin.end();
    }
  });
});
