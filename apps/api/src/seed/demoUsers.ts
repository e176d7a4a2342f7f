// The fixed demo logins printed by `npm start`. Created once; an existing user (whose password
// someone may have changed on purpose) is left alone. Only into a demo database: these logins'
// passwords are published, so the seed refuses a database that holds anyone else's work.
import type { PrismaClient, Role, User } from "@rcmnet/db";
import { createUser } from "../modules/users/manageUsers.ts";

export const DEMO_USERS = [
  { login: "admin", password: "admin-demo-pass", role: "ADMIN", displayName: "Alex Admin" },
  { login: "hema", password: "hema-demo-pass", role: "HEMATOLOGIST", displayName: "Dr. Hana Hematologist" },
  { login: "tech", password: "tech-demo-pass", role: "TECHNICIAN", displayName: "Theo Technician" },
  { login: "ds", password: "ds-demo-pass", role: "DATA_SCIENTIST", displayName: "Dana Data Scientist" },
  { login: "auditor", password: "auditor-demo-pass", role: "AUDITOR", displayName: "Aude Auditor" },
] as const satisfies readonly { login: string; password: string; role: Role; displayName: string }[];

export type DemoLogin = (typeof DEMO_USERS)[number]["login"];

/** The reason of the demo users' `user.create` events (by "system"): also what marks a demo database. */
export const DEMO_SEED_REASON = "demo seed";

export class DemoSeedRefused extends Error {
  constructor(what: string) {
    super(
      `Refusing to load the demo data (RCMNET_DEMO=1) into a database that ${what}: ` +
        "the demo adds logins whose passwords are published. Start without RCMNET_DEMO=1 to use this database, " +
        "or point DATABASE_URL at an empty one for the demo.",
    );
    this.name = "DemoSeedRefused";
  }
}

/**
 * A database the demo seeded before (its users' `user.create` events say so) is a demo database.
 * Any other must hold nothing but what the demo itself would have made: no user created through
 * the platform (every such user has a `user.create` event; the demo's, before they were audited,
 * had none) or with another login, and no signed case but the demo's own (`ownSignOuts`).
 */
export async function assertDemoDatabase(prisma: PrismaClient, ownSignOuts: readonly string[] = []): Promise<void> {
  const seeded = await prisma.auditEvent.findFirst({
    where: { action: "user.create", actorId: null, actorLogin: "system", reason: DEMO_SEED_REASON },
    select: { seq: true },
  });
  if (seeded) return;
  const others = await prisma.user.findMany({ where: { login: { notIn: DEMO_USERS.map((u) => u.login) } }, select: { login: true }, take: 3 });
  if (others.length || (await prisma.auditEvent.count({ where: { action: "user.create" } })) > 0) {
    throw new DemoSeedRefused(`holds users the demo did not create${others.length ? ` (${others.map((u) => u.login).join(", ")}…)` : ""}`);
  }
  const signed = await prisma.case.findMany({
    where: { status: { in: ["SIGNED_OUT", "AMENDED"] }, accession: { notIn: [...ownSignOuts] } },
    select: { accession: true },
    take: 3,
  });
  if (signed.length) throw new DemoSeedRefused(`holds signed cases (${signed.map((c) => c.accession).join(", ")}…)`);
}

/**
 * `ownSignOuts`: accessions of the cases the demo signs out itself (see assertDemoDatabase), or
 * "embedded" for the embedded database, which is a demo database by definition: not checked.
 */
export async function ensureDemoUsers(prisma: PrismaClient, ownSignOuts: readonly string[] | "embedded" = []): Promise<Record<DemoLogin, User>> {
  if (ownSignOuts !== "embedded") await assertDemoDatabase(prisma, ownSignOuts);
  const out = {} as Record<DemoLogin, User>;
  for (const u of DEMO_USERS) {
    const existing = await prisma.user.findUnique({ where: { login: u.login } });
    // 21 CFR 11.10(e): an account is on record from its creation, like one an admin creates.
    out[u.login] = existing ?? (await createUser(prisma, null, { ...u, reason: DEMO_SEED_REASON }, { publishedPassword: true }));
  }
  return out;
}
