-- API sessions replace the list of revoked tokens: a token is accepted only while its session row
-- is open, so a signed-out or idle token is refused by the same check. Tokens issued before this
-- migration have no row and are refused: everyone signs in again once.

-- CreateEnum
CREATE TYPE "SessionEnd" AS ENUM ('LOGOUT', 'IDLE', 'EXPIRED', 'REVOKED');

-- DropTable
DROP TABLE "revoked_token";

-- CreateTable
CREATE TABLE "api_session" (
    "tokenSha256" TEXT NOT NULL,
    "userId" UUID NOT NULL,
    "issuedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "lastSeenAt" TIMESTAMP(3) NOT NULL,
    "expiresAt" TIMESTAMP(3) NOT NULL,
    "endedAt" TIMESTAMP(3),
    "endReason" "SessionEnd",

    CONSTRAINT "api_session_pkey" PRIMARY KEY ("tokenSha256")
);

-- CreateIndex
CREATE INDEX "api_session_userId_idx" ON "api_session"("userId");

-- CreateIndex
CREATE INDEX "api_session_expiresAt_idx" ON "api_session"("expiresAt");
