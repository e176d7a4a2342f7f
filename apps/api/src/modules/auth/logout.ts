// Signing out ends the session of the token that signed out, before it expires: a copy of the
// session cookie taken from a shared workstation stops working with it. Other sessions of the
// user stay.
import type { PrismaClient } from "@rcmnet/db";
import type { AuthUser } from "../../context.ts";
import { endSession } from "../../auth/sessions.ts";

export async function logout(prisma: PrismaClient, actor: AuthUser, session: { tokenSha256: string }): Promise<boolean> {
  await endSession(prisma, session.tokenSha256, actor);
  return true;
}
