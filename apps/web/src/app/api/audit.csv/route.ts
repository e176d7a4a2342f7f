// Audit trail export for AUDITOR and ADMIN: the API's own CSV export (every filter, every row,
// streamed), passed through with the session's token. There is deliberately no second path:
// an export that silently dropped a filter or stopped at a row cap would be a false record.
import type { NextRequest } from "next/server";
import { env } from "@/env";
import { gqlErrorResponse, requireRoute } from "@/server/routeAuth";

export const dynamic = "force-dynamic";

export async function GET(request: NextRequest) {
  // The export is audited in the reader's name: only from this app's own pages.
  const auth = await requireRoute(request, "audit", { recordsAction: true });
  if (auth.denied) return auth.denied;
  const filename = `audit-trail-${new Date().toISOString().slice(0, 19).replace(/:/g, "")}.csv`;
  let upstream: Response;
  try {
    upstream = await fetch(`${env.API_URL}/audit.csv?${request.nextUrl.searchParams.toString()}`, {
      headers: { authorization: `Bearer ${auth.session.apiToken}` },
      cache: "no-store",
      // The page's Cancel (or a closed tab) aborts this request: the API's too, which then records
      // no export when it had sent nothing yet (auditCsv), as the page says "nothing was saved".
      signal: request.signal,
    });
  } catch {
    return gqlErrorResponse(502, "NETWORK", "The API could not be reached; no export was made.");
  }
  if (upstream.ok && upstream.body && upstream.headers.get("content-type")?.includes("csv")) {
    return new Response(upstream.body, {
      headers: {
        "content-type": "text/csv; charset=utf-8",
        "content-disposition": `attachment; filename="${filename}"`,
        "cache-control": "no-store",
        // Whether the chain verified when the export was made, and what was blanked for this role.
        ...Object.fromEntries(["x-audit-chain", "x-audit-redacted"].flatMap((h) => (upstream.headers.get(h) ? [[h, upstream.headers.get(h)!]] : []))),
      },
    });
  }
  // A refusal or a bad filter (400: e.g. from=notadate) is the answer, as the API gave it.
  if (upstream.status >= 400 && upstream.status < 500) {
    return new Response(upstream.body, { status: upstream.status, headers: { "content-type": "application/json", "cache-control": "no-store" } });
  }
  return gqlErrorResponse(502, "UNAVAILABLE", "The API could not produce the export; no export was made.");
}
