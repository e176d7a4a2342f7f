// Audit trail export for AUDITOR and ADMIN. The API's own CSV export is streamed through when it
// has one; otherwise the rows are paged through GraphQL and written here.
import type { NextRequest } from "next/server";
import { env } from "@/env";
import { toCsv } from "@/lib/csv";
import { ApiError } from "@/lib/errors";
import { type AuditEventRow, AUDIT_TRAIL } from "@/lib/operations";
import { apiGraphQL } from "@/server/api";
import { auditFilterFrom } from "@/server/auditFilter";
import { gqlErrorResponse, requireRoute } from "@/server/routeAuth";

export const dynamic = "force-dynamic";
const MAX_ROWS = 100_000;


export async function GET(request: NextRequest) {
  const auth = await requireRoute(request, "audit");
  if (auth.denied) return auth.denied;
  const token = auth.session.apiToken;
  const filename = `audit-trail-${new Date().toISOString().slice(0, 19).replace(/:/g, "")}.csv`;
  const headers = {
    "content-type": "text/csv; charset=utf-8",
    "content-disposition": `attachment; filename="${filename}"`,
    "cache-control": "no-store",
  };

  try {
    const upstream = await fetch(`${env.API_URL}/audit.csv?${request.nextUrl.searchParams.toString()}`, {
      headers: { authorization: `Bearer ${token}` },
      cache: "no-store",
    });
    if (upstream.ok && upstream.body && upstream.headers.get("content-type")?.includes("csv")) {
      return new Response(upstream.body, { headers });
    }
    // A refusal or a bad filter (400: e.g. from=notadate) is the answer; falling back would
    // silently drop the bad filter and export more than was asked for.
    if (upstream.status === 400 || upstream.status === 401 || upstream.status === 403) {
      return new Response(upstream.body, { status: upstream.status, headers: { "content-type": "application/json", "cache-control": "no-store" } });
    }
  } catch {
    // fall through to GraphQL
  }

  const filter = auditFilterFrom(request.nextUrl.searchParams);
  const rows: AuditEventRow[] = [];
  let after: string | null = null;
  try {
    do {
      const r: { auditTrail: { nodes: AuditEventRow[]; pageInfo: { endCursor: string | null; hasNextPage: boolean } } } = await apiGraphQL(
        AUDIT_TRAIL,
        { filter, first: 500, after },
        token,
      );
      rows.push(...r.auditTrail.nodes);
      after = r.auditTrail.pageInfo.hasNextPage ? r.auditTrail.pageInfo.endCursor : null;
    } while (after && rows.length < MAX_ROWS);
  } catch (e) {
    if (e instanceof ApiError) return gqlErrorResponse(e.code === "FORBIDDEN" ? 403 : e.code === "UNAUTHENTICATED" ? 401 : 502, e.code, e.message);
    throw e;
  }
  const csv = toCsv(
    ["seq", "at", "actor", "action", "entityType", "entityId", "reason", "before", "after", "prevHash", "hash"],
    rows.map((r) => [r.seq, r.at, r.actorLogin, r.action, r.entityType, r.entityId, r.reason, r.before, r.after, r.prevHash, r.hash]),
  );
  return new Response(csv, { headers });
}
