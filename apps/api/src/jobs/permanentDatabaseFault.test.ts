// The shapes below are what @rcmnet/db's client and node-postgres threw against PostgreSQL 15
// (a wrong password on a scram-sha-256 server; an unknown role and database on the local one).
import { describe, expect, it } from "vitest";
import { permanentDatabaseFault } from "./permanentDatabaseFault.ts";

/** A PrismaClientKnownRequestError as the driver adapter reports a connection refused by the server. */
function prismaError(code: string, message: string, cause: Record<string, unknown>) {
  return Object.assign(new Error(message), { name: "PrismaClientKnownRequestError", code, meta: { driverAdapterError: { name: "DriverAdapterError", cause } } });
}

/** A node-postgres DatabaseError (what checkPlatformRole's own client throws). */
function pgError(code: string, message: string) {
  return Object.assign(new Error(message), { code, severity: "FATAL" });
}

const wrongPassword = { originalCode: "28P01", originalMessage: 'password authentication failed for user "rcmnet"', kind: "AuthenticationFailed", user: "rcmnet" };
const unknownRole = { originalCode: "28000", originalMessage: 'role "rcmnet_app" does not exist', kind: "DatabaseAccessDenied" };
const unknownDatabase = { originalCode: "3D000", originalMessage: 'database "rcmnett" does not exist', kind: "DatabaseDoesNotExist", db: "rcmnett" };

describe("permanentDatabaseFault", () => {
  it("names a wrong password, an unknown role and an unknown database, from Prisma's model and raw queries alike", () => {
    const cases = [
      [prismaError("P1000", "Authentication failed against the database server, the provided database credentials for `rcmnet` are not valid", wrongPassword), "28P01", /password in DATABASE_URL is wrong/],
      [prismaError("P2010", "\nInvalid `prisma.$queryRaw()` invocation:\n\n\nRaw query failed. Code: `28P01`.", wrongPassword), "28P01", /password in DATABASE_URL is wrong/],
      [prismaError("P1010", "User was denied access on the database `(not available)`", unknownRole), "28000", /lets DATABASE_URL's role in nowhere/],
      [prismaError("P1003", "Database `rcmnett` does not exist on the database server", unknownDatabase), "3D000", /database named in DATABASE_URL does not exist/],
      [prismaError("P2010", "\nInvalid `prisma.$queryRaw()` invocation:\n\n\nRaw query failed. Code: `3D000`.", unknownDatabase), "3D000", /database named in DATABASE_URL does not exist/],
    ] as const;
    for (const [err, sqlstate, what] of cases) {
      const fault = permanentDatabaseFault(err);
      expect(fault, err.message).toMatchObject({ sqlstate, message: expect.stringMatching(what) });
      // One line, in the server's words (which name the role or database), saying what to fix.
      expect(fault!.message).not.toContain("\n");
      expect(fault!.message).toContain(`SQLSTATE ${sqlstate}: ${err.meta.driverAdapterError.cause.originalMessage}`);
      expect(fault!.message).toMatch(/correct DATABASE_URL/);
    }
  });

  it("names the same faults from node-postgres, from a Prisma code without the driver's detail, and behind a cause", () => {
    expect(permanentDatabaseFault(pgError("28P01", 'password authentication failed for user "rcmnet"'))?.sqlstate).toBe("28P01");
    expect(permanentDatabaseFault(pgError("28000", 'no pg_hba.conf entry for host "10.0.0.5", user "rcmnet", database "rcmnet", no encryption'))?.message).toMatch(/pg_hba\.conf/);
    expect(permanentDatabaseFault(pgError("3D000", 'database "rcmnett" does not exist'))?.sqlstate).toBe("3D000");
    const bare = Object.assign(new Error("Authentication failed against the database server"), { code: "P1000" });
    expect(permanentDatabaseFault(bare)).toMatchObject({ sqlstate: "28P01", message: expect.stringContaining("Authentication failed against the database server") });
    expect(permanentDatabaseFault(new Error("claim failed", { cause: pgError("3D000", 'database "x" does not exist') }))?.sqlstate).toBe("3D000");
  });

  it("leaves what may heal to the retry: a server down or starting, a database not migrated or not granted yet, anything unknown", () => {
    const transient = [
      Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:5432"), { code: "ECONNREFUSED" }),
      Object.assign(new Error("getaddrinfo ENOTFOUND db"), { code: "ENOTFOUND" }),
      prismaError("P1001", "Can't reach database server at 127.0.0.1:5432", { kind: "DatabaseNotReachable", host: "127.0.0.1", port: 5432 }),
      prismaError("P1017", "Server has closed the connection.", { kind: "ConnectionClosed" }),
      pgError("57P03", "the database system is starting up"),
      pgError("57P01", "terminating connection due to administrator command"),
      prismaError("P2021", "The table `public.job` does not exist in the current database.", { originalCode: "42P01", kind: "TableDoesNotExist", table: "public.job" }),
      prismaError("P2010", "Raw query failed. Code: `42501`.", { originalCode: "42501", originalMessage: "permission denied for table job", kind: "postgres" }),
      new Error("no table audit_event: migrate the database first"),
      "a string",
      null,
      undefined,
    ];
    for (const err of transient) expect(permanentDatabaseFault(err), String(err)).toBeNull();
  });
});
