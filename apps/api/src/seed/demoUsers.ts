// The fixed demo logins printed by `npm start`. Created once; an existing user (whose password
// someone may have changed on purpose) is left alone.
import type { PrismaClient, Role, User } from "@rcmnet/db";
import { hashPassword } from "../auth/passwords.ts";

export const DEMO_USERS = [
  { login: "admin", password: "admin-demo-pass", role: "ADMIN", displayName: "Alex Admin" },
  { login: "hema", password: "hema-demo-pass", role: "HEMATOLOGIST", displayName: "Dr. Hana Hematologist" },
  { login: "tech", password: "tech-demo-pass", role: "TECHNICIAN", displayName: "Theo Technician" },
  { login: "ds", password: "ds-demo-pass", role: "DATA_SCIENTIST", displayName: "Dana Data Scientist" },
  { login: "auditor", password: "auditor-demo-pass", role: "AUDITOR", displayName: "Aude Auditor" },
] as const satisfies readonly { login: string; password: string; role: Role; displayName: string }[];

export type DemoLogin = (typeof DEMO_USERS)[number]["login"];

export async function ensureDemoUsers(prisma: PrismaClient): Promise<Record<DemoLogin, User>> {
  const out = {} as Record<DemoLogin, User>;
  for (const u of DEMO_USERS) {
    const existing = await prisma.user.findUnique({ where: { login: u.login } });
    out[u.login] =
      existing ??
      (await prisma.user.create({
        data: {
          login: u.login,
          displayName: u.displayName,
          role: u.role,
          passwordHash: await hashPassword(u.password),
        },
      }));
  }
  return out;
}
