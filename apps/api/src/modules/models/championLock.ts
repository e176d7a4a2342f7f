import type { Prisma } from "@rcmnet/db";

/** One advisory key for every change of the champion (and every write that must not straddle one). */
const CHAMPION_LOCK = 72430021;

/**
 * Serialises every change of the champion (approve, register-as-champion) inside the caller's
 * transaction. The schema has no "one champion" constraint to lean on, and with no champion yet
 * there is no row to lock, hence a transaction-scoped advisory lock.
 */
export async function lockChampion(tx: Prisma.TransactionClient): Promise<void> {
  await tx.$executeRaw`SELECT pg_advisory_xact_lock(${CHAMPION_LOCK}::bigint)`;
}

/**
 * The same lock, shared: a worker write that depends on which model is champion (an analysis
 * finishing, a re-prediction) reads the champion under it, so a champion change cannot commit
 * between that read and the write's commit. Writers do not wait for one another. Take it first,
 * before any case row lock or audit event (the audit chain's lock): the order every holder keeps.
 */
export async function lockChampionShared(tx: Prisma.TransactionClient): Promise<void> {
  await tx.$executeRaw`SELECT pg_advisory_xact_lock_shared(${CHAMPION_LOCK}::bigint)`;
}
