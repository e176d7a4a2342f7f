// The database's clock, to the columns' millisecond precision. Times that order records across
// hosts (a signature against the audit events it anchors, a promotion decision against a later
// rollback) are read from it: an API host whose clock is off, or a second host, must not reorder them.
import type { Prisma } from "@rcmnet/db";

export async function databaseNow(db: Pick<Prisma.TransactionClient, "$queryRaw">): Promise<Date> {
  const [row] = await db.$queryRaw<{ now: Date }[]>`SELECT date_trunc('milliseconds', clock_timestamp()) AS now`;
  return row!.now;
}
