import { AuditChainVerifier, type PrismaClient } from "@rcmnet/db";

// One verifier per database client, so that what it has verified is remembered across requests
// (and never carried from one database to another, as in tests).
const verifiers = new WeakMap<PrismaClient, AuditChainVerifier>();

/** The audit chain verifier for this database (the first check walks the whole chain). */
export function chainVerifier(prisma: PrismaClient): AuditChainVerifier {
  let verifier = verifiers.get(prisma);
  if (!verifier) verifiers.set(prisma, (verifier = new AuditChainVerifier()));
  return verifier;
}
