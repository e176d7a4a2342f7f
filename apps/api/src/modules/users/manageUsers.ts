// User administration (ADMIN). Each change is audited with its reason; disabling, resetting the
// password or changing the role ends the user's sessions (revokeUserSessions), so undoing the change later revives no old token.
import type { Prisma, PrismaClient, Role, User } from "@rcmnet/db";
import { z } from "zod";
import type { AuthUser } from "../../context.ts";
import { conflict, forbidden, isUniqueViolation, notFound } from "../../errors.ts";
import { auditSnapshot, recordAudit } from "../../audit/recordAudit.ts";
import { assertPasswordPolicy, hashPassword } from "../../auth/passwords.ts";
import { revokeUserSessions } from "../../auth/sessions.ts";
import { parseInput } from "../../lib/validate.ts";
import { isUuid } from "../../lib/pagination.ts";

const reason = z.string().trim().min(3, "reason is required").max(1000);

export const createUserInput = z.object({
  login: z.string().trim().regex(/^[a-z0-9][a-z0-9._-]{1,39}$/, "login: 2-40 lowercase letters, digits, . _ -"),
  displayName: z.string().trim().min(2).max(100),
  role: z.enum(["ADMIN", "HEMATOLOGIST", "TECHNICIAN", "DATA_SCIENTIST", "AUDITOR"]),
  password: z.string(),
});

/**
 * `actor` null: the system (the first administrator of an install, seed/firstAdmin.ts; the demo's
 * users, seed/demoUsers.ts, whose published passwords are not temporary: `publishedPassword`).
 */
export async function createUser(
  prisma: PrismaClient,
  actor: Pick<AuthUser, "id" | "login"> | null,
  raw: unknown,
  system: { reason?: string; publishedPassword?: boolean } = {},
): Promise<User> {
  const input = parseInput(createUserInput, raw);
  assertPasswordPolicy(input.password);
  const passwordHash = await hashPassword(input.password);
  try {
    return await prisma.$transaction(async (tx) => {
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
        ...(system.reason ? { reason: system.reason } : {}),
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

async function lockUser(tx: Prisma.TransactionClient, id: string): Promise<User> {
  if (!isUuid(id)) throw notFound("User");
  // Serialises admin changes so two admins cannot each remove "the other last admin".
  await tx.$executeRaw`SELECT pg_advisory_xact_lock(7243101)`;
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
    if (args.disabled) await assertAnotherAdminRemains(tx, before);
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
      data: { passwordHash, passwordChangedAt: new Date(), failedLogins: 0, lockedUntil: null, mustChangePassword: true },
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
