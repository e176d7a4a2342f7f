import type { Prisma } from "@rcmnet/db";

/**
 * Serialises every change of the champion (approve, register-as-champion) inside the caller's
 * transaction. The schema has no "one champion" constraint to lean on, and with no champion yet
 * there is no row to lock, hence a transaction-scoped advisory lock.
 */
export async function lockChampion(tx: Prisma.TransactionClient): Promise<void> {
  await tx.$executeRaw`SELECT pg_advisory_xact_lock(72430021)`;
}
