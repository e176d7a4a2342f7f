// The database's clock, to the columns' millisecond precision. Times that order records across
// hosts (a signature against the audit events it anchors, a promotion decision against a later
// rollback) are read from it: an API host whose clock is off, or a second host, must not reorder them.
// Every createdAt (and audit events', promotions' and training runs' times) is stamped by database
// triggers instead (migrations record_times_from_database, created_at_from_database); this is for
// a time the code must know before it writes (a signature's signedAt is part of what is signed).
import type { Prisma } from "@rcmnet/db";

export async function databaseNow(db: Pick<Prisma.TransactionClient, "$queryRaw">): Promise<Date> {
  const [row] = await db.$queryRaw<{ now: Date }[]>`SELECT date_trunc('milliseconds', clock_timestamp()) AS now`;
  return row!.now;
}
