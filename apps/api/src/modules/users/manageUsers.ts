// User administration (ADMIN). Each change is audited with its reason; disabling, resetting the
// password or changing the role ends the user's sessions (revokeUserSessions), so undoing the change later revives no old token.
import type { Prisma, PrismaClient, Role, User } from "@rcmnet/db";
import { z } from "zod";
import type { AuthUser } from "../../context.ts";
import { badInput, conflict, forbidden, isUniqueViolation, notFound } from "../../errors.ts";
import { auditSnapshot, recordAudit, SYSTEM_LOGIN } from "../../audit/recordAudit.ts";
import { assertPasswordPolicy, hashPassword, historyAfterChange } from "../../auth/passwords.ts";
import { revokeUserSessions } from "../../auth/sessions.ts";
import { parseInput } from "../../lib/validate.ts";
import { isUuid } from "../../lib/pagination.ts";

const reason = z.string().trim().min(3, "reason is required").max(1000);

/** One space between words, in one Unicode form: names that print alike compare alike. */
const printedName = (name: string) => name.normalize("NFKC").replace(/\s+/g, " ").trim();

export const createUserInput = z.object({
  // Lower-cased, as sign-in and the signature step read a login typed in any case.
  login: z
    .string()
    .trim()
    .toLowerCase()
    .regex(/^[a-z0-9][a-z0-9._-]{1,39}$/, "login: 2-40 letters, digits, . _ -")
    // The trail's name for the platform's own actions: an account of that name would pass for it.
    .refine((login) => login !== SYSTEM_LOGIN, `login: "${SYSTEM_LOGIN}" is reserved for the platform's own actions in the audit trail`),
  displayName: z.string().transform(printedName).pipe(z.string().min(2).max(100)),
  role: z.enum(["ADMIN", "HEMATOLOGIST", "TECHNICIAN", "DATA_SCIENTIST", "AUDITOR"]),
  password: z.string(),
  // An account's creation is a change like any other: on record with why it was made.
  reason,
});

/**
 * `actor` null: the system (the first administrator of an install, seed/firstAdmin.ts; the demo's
 * users, seed/demoUsers.ts, whose published passwords are not temporary: `publishedPassword`),
 * which gives its own reason in `raw` like an administrator.
 */
export async function createUser(
  prisma: PrismaClient,
  actor: Pick<AuthUser, "id" | "login"> | null,
  raw: unknown,
  system: { publishedPassword?: boolean } = {},
): Promise<User> {
  const input = parseInput(createUserInput, raw);
  assertPasswordPolicy(input.password);
  const passwordHash = await hashPassword(input.password);
  try {
    return await prisma.$transaction(async (tx) => {
      await lockUserChanges(tx);
      await assertDisplayNameFree(tx, input.displayName);
      // A password someone else chose is temporary: its owner changes it before doing anything else.
      // That includes the first administrator's (actor null), which sat in the environment of
      // every process `npm start` launched.
      const user = await tx.user.create({
        data: { login: input.login, displayName: input.displayName, role: input.role, passwordHash, mustChangePassword: !system.publishedPassword },
      });
      await recordAudit(tx, actor, {
        action: "user.create",
        entityType: "User",
        entityId: user.id,
        after: auditSnapshot(user, ["failedLogins", "updatedAt"]),
        reason: input.reason,
      });
      return user;
    });
  } catch (err) {
    if (isUniqueViolation(err)) throw conflict(`Login ${input.login} is taken`);
    throw err;
  }
}

/**
 * An administrator's own account is changed by another administrator: otherwise a hijacked admin
 * session could take the account over (a new password without the current one) or re-role it.
 * Their own password goes through changeMyPassword, which asks for the current one.
 */
function assertNotSelf(actor: AuthUser, id: string): void {
  if (actor.id === id) throw forbidden("Administrators cannot disable, reset, unlock or re-role their own account: ask another administrator (your own password: Account)");
}

/** A user's lockout as the audit trail records it (before a reset or an unlock). */
function lockoutOf(user: Pick<User, "failedLogins" | "lockedUntil">) {
  return { failedLogins: user.failedLogins, lockedUntil: user.lockedUntil?.toISOString() ?? null };
}

/**
 * Serialises admin changes so two admins cannot each remove "the other last admin", nor create
 * two accounts of the same name at once.
 */
async function lockUserChanges(tx: Prisma.TransactionClient): Promise<void> {
  await tx.$executeRaw`SELECT pg_advisory_xact_lock(7243101)`;
}

/**
 * A signature shows the signer's name: two enabled accounts of one name (trimmed, any case) would
 * leave a report's reader unsure who signed. Disabled accounts do not count: a departed
 * colleague's namesake may join. Called under lockUserChanges, so two creations cannot both pass.
 */
async function assertDisplayNameFree(tx: Prisma.TransactionClient, displayName: string, exceptId: string | null = null): Promise<void> {
  const [taken] = await tx.$queryRaw<{ login: string }[]>`
    SELECT login FROM "user"
    WHERE NOT disabled AND (${exceptId}::uuid IS NULL OR id <> ${exceptId}::uuid)
      AND lower(btrim(regexp_replace(normalize("displayName", NFKC), '\s+', ' ', 'g'))) = lower(${displayName}) LIMIT 1`;
  if (taken) {
    throw conflict(`The enabled account ${taken.login} is already named "${displayName}": choose a name that tells them apart on a signature (a middle initial, say)`);
  }
}

async function lockUser(tx: Prisma.TransactionClient, id: string): Promise<User> {
  if (!isUuid(id)) throw notFound("User");
  await lockUserChanges(tx);
  const user = await tx.user.findUnique({ where: { id } });
  if (!user) throw notFound("User");
  return user;
}

async function assertAnotherAdminRemains(tx: Prisma.TransactionClient, user: User): Promise<void> {
  if (user.role !== "ADMIN" || user.disabled) return;
  const others = await tx.user.count({ where: { role: "ADMIN", disabled: false, id: { not: user.id } } });
  if (others === 0) throw conflict("This is the last enabled admin: appoint another admin first");
}

export async function setUserDisabled(prisma: PrismaClient, actor: AuthUser, args: { id: string; disabled: boolean; reason: string }) {
  const why = parseInput(reason, args.reason);
  assertNotSelf(actor, args.id);
  return prisma.$transaction(async (tx) => {
    const before = await lockUser(tx, args.id);
    // Enabling an enabled account would record a change that did not happen and clear a lockout
    // meant for Unlock, which asks for its own reason.
    if (!args.disabled && !before.disabled) throw badInput(`${before.login} is already enabled`);
    if (args.disabled && before.disabled) throw badInput(`${before.login} is already disabled`);
    if (args.disabled) await assertAnotherAdminRemains(tx, before);
    // Back among the enabled accounts, its name must still tell its signatures apart.
    else await assertDisplayNameFree(tx, printedName(before.displayName), before.id);
    const after = await tx.user.update({
      where: { id: before.id },
      data: { disabled: args.disabled, ...(args.disabled ? {} : { failedLogins: 0, lockedUntil: null }) },
    });
    const sessionsEnded = args.disabled ? await revokeUserSessions(tx, after.id) : 0;
    await recordAudit(tx, actor, {
      action: args.disabled ? "user.disable" : "user.enable",
      entityType: "User",
      entityId: after.id,
      // Enabling also clears a lockout: the trail keeps what it cleared, as unlockUser's does.
      before: { disabled: before.disabled, ...(args.disabled ? {} : lockoutOf(before)) },
      after: { disabled: after.disabled, ...(args.disabled ? {} : lockoutOf(after)), ...(sessionsEnded ? { sessionsEnded } : {}) },
      reason: why,
    });
    return after;
  });
}

export async function resetUserPassword(prisma: PrismaClient, actor: AuthUser, args: { id: string; newPassword: string; reason: string }) {
  const why = parseInput(reason, args.reason);
  assertNotSelf(actor, args.id);
  assertPasswordPolicy(args.newPassword);
  const passwordHash = await hashPassword(args.newPassword);
  return prisma.$transaction(async (tx) => {
    const before = await lockUser(tx, args.id);
    const after = await tx.user.update({
      where: { id: before.id },
      // The password replaced joins the history: its owner may not choose it again right after.
      data: { passwordHash, passwordChangedAt: new Date(), failedLogins: 0, lockedUntil: null, mustChangePassword: true, passwordHistory: historyAfterChange(before.passwordHash, before.passwordHistory) },
    });
    const sessionsEnded = await revokeUserSessions(tx, after.id);
    await recordAudit(tx, actor, {
      action: "user.reset_password",
      entityType: "User",
      entityId: after.id,
      before: { mustChangePassword: before.mustChangePassword, ...lockoutOf(before) },
      after: { mustChangePassword: true, failedLogins: 0, lockedUntil: null, ...(sessionsEnded ? { sessionsEnded } : {}) },
      reason: why,
    });
    return after;
  });
}

export async function changeUserRole(prisma: PrismaClient, actor: AuthUser, args: { id: string; role: Role; reason: string }) {
  const why = parseInput(reason, args.reason);
  assertNotSelf(actor, args.id);
  return prisma.$transaction(async (tx) => {
    const before = await lockUser(tx, args.id);
    if (before.role === args.role) return before;
    if (args.role !== "ADMIN") await assertAnotherAdminRemains(tx, before);
    const after = await tx.user.update({ where: { id: before.id }, data: { role: args.role } });
    const sessionsEnded = await revokeUserSessions(tx, after.id);
    await recordAudit(tx, actor, {
      action: "user.change_role",
      entityType: "User",
      entityId: after.id,
      before: { role: before.role },
      after: { role: after.role, ...(sessionsEnded ? { sessionsEnded } : {}) },
      reason: why,
    });
    return after;
  });
}

/** Ends a lockout (failed attempts counted back to 0); the password and sessions stay. */
export async function unlockUser(prisma: PrismaClient, actor: AuthUser, args: { id: string; reason: string }) {
  const why = parseInput(reason, args.reason);
  assertNotSelf(actor, args.id);
  return prisma.$transaction(async (tx) => {
    const before = await lockUser(tx, args.id);
    if (before.failedLogins === 0 && before.lockedUntil === null) return before;
    const after = await tx.user.update({ where: { id: before.id }, data: { failedLogins: 0, lockedUntil: null } });
    await recordAudit(tx, actor, {
      action: "user.unlock",
      entityType: "User",
      entityId: after.id,
      before: lockoutOf(before),
      after: { failedLogins: 0, lockedUntil: null },
      reason: why,
    });
    return after;
  });
}
