// A real install (`npm start` against your own DATABASE_URL, without RCMNET_DEMO=1) gets no demo
// logins with published passwords. Its first administrator comes from RCMNET_ADMIN_LOGIN and
// RCMNET_ADMIN_PASSWORD, once, while the database has no users: created through the same
// validation, password policy and audit event as an admin's createUser, with "system" as the
// actor. Every later account is made by an admin in the dashboard.
import type { PrismaClient, User } from "@rcmnet/db";
import { ConfigurationError } from "../env.ts";
import { AppError } from "../errors.ts";
import { createUser } from "../modules/users/manageUsers.ts";

export class FirstAdminMissing extends ConfigurationError {
  constructor() {
    super(
      "This database has no users. Set RCMNET_ADMIN_LOGIN and RCMNET_ADMIN_PASSWORD to create the first " +
        "administrator (remove them after the first start), or RCMNET_DEMO=1 to load the demo data and logins.",
    );
    this.name = "FirstAdminMissing";
  }
}

export interface FirstAdminInput {
  login?: string;
  password?: string;
  displayName?: string;
}

/** The reason of the first administrator's `user.create` event (by "system"). */
export const FIRST_ADMIN_REASON = "first administrator of this install (RCMNET_ADMIN_LOGIN)";

/** The administrator created now, or null when the database already has users (input ignored). */
export async function ensureFirstAdmin(prisma: PrismaClient, input: FirstAdminInput): Promise<User | null> {
  if ((await prisma.user.count()) > 0) return null;
  if (!input.login || !input.password) throw new FirstAdminMissing();
  try {
    return await createUser(prisma, null, {
      login: input.login,
      password: input.password,
      displayName: input.displayName ?? "Administrator",
      role: "ADMIN",
      reason: FIRST_ADMIN_REASON,
    });
  } catch (err) {
    // A login or password the policy refuses is the variables' to correct: no restart helps.
    if (err instanceof AppError && err.code === "BAD_USER_INPUT") throw new ConfigurationError(`RCMNET_ADMIN_LOGIN / RCMNET_ADMIN_PASSWORD: ${err.message}`);
    throw err;
  }
}
