-- Failed sign-ins at logins with no enabled account, counted in the database (a read-only review,
-- 2026-11-28). The API kept that count in each process's memory: with several API processes, five
-- failures at a made-up login, spread over them, never locked it, while a real account locks at
-- the fifth, so the answer told which logins exist; the count was also lost on a restart and after
-- 10,000 other logins. unknown_login_lockout holds the count for every process, keyed by an HMAC
-- of the login (never the login itself), and a row goes once its window has passed.
-- A count that is forgotten for unknown logins must be forgotten for accounts too, or waiting out
-- the window would tell them apart: "lastFailedLoginAt" on "user" lets a user's count start again
-- after LOCKOUT_MS (15 min) without a counted attempt, as an unknown login's row is deleted then.

-- AlterTable
ALTER TABLE "user" ADD COLUMN     "lastFailedLoginAt" TIMESTAMP(3);
-- Counts in progress at the upgrade run on from now rather than start again.
UPDATE "user" SET "lastFailedLoginAt" = now() AT TIME ZONE 'UTC' WHERE "failedLogins" > 0;

-- CreateTable
CREATE TABLE "unknown_login_lockout" (
    "loginKey" TEXT NOT NULL,
    "failedLogins" INTEGER NOT NULL DEFAULT 0,
    "lastFailedLoginAt" TIMESTAMP(3) NOT NULL,
    "lockedUntil" TIMESTAMP(3),

    CONSTRAINT "unknown_login_lockout_pkey" PRIMARY KEY ("loginKey")
);

-- CreateIndex
CREATE INDEX "unknown_login_lockout_lastFailedLoginAt_idx" ON "unknown_login_lockout"("lastFailedLoginAt");

-- The key is a hex HMAC-SHA256 and nothing else: a login typed (often a password) cannot be stored.
ALTER TABLE "unknown_login_lockout" ADD CONSTRAINT "unknown_login_lockout_key_hmac" CHECK ("loginKey" ~ '^[0-9a-f]{64}$');
ALTER TABLE "unknown_login_lockout" ADD CONSTRAINT "unknown_login_lockout_failed_logins" CHECK ("failedLogins" >= 0);
