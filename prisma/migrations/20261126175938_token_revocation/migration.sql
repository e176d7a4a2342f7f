-- CreateTable
CREATE TABLE "revoked_token" (
    "tokenSha256" TEXT NOT NULL,
    "userId" UUID NOT NULL,
    "expiresAt" TIMESTAMP(3) NOT NULL,
    "revokedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "revoked_token_pkey" PRIMARY KEY ("tokenSha256")
);

-- CreateIndex
CREATE INDEX "revoked_token_expiresAt_idx" ON "revoked_token"("expiresAt");
