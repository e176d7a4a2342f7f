// The public half of the key that signs audit exports, for AUDITOR and ADMIN (the audit page's
// readers): as the API publishes it (GET /audit/export-key), or with ?download=1 as a PEM file
// to check a saved export with (`scripts/verifyAuditCsv.ts --key`, openssl, Python). Nothing
// secret passes here; the private key never leaves the API.
import type { NextRequest } from "next/server";
import { env } from "@/env";
import { gqlErrorResponse, requireRoute } from "@/server/routeAuth";

export const dynamic = "force-dynamic";

interface ExportKey {
  algorithm: string;
  fingerprint: string;
  publicKey: string;
  recordedSeq: string | number | null;
}

function isExportKey(v: unknown): v is ExportKey {
  const k = v as Partial<ExportKey> | null;
  return typeof k?.fingerprint === "string" && /^[0-9a-f]{64}$/.test(k.fingerprint) && typeof k.publicKey === "string" && k.publicKey.startsWith("-----BEGIN PUBLIC KEY-----");
}

export async function GET(request: NextRequest) {
  const auth = await requireRoute(request, "audit");
  if (auth.denied) return auth.denied;
  let upstream: Response;
  try {
    upstream = await fetch(`${env.API_URL}/audit/export-key`, {
      headers: { authorization: `Bearer ${auth.session.apiToken}` },
      cache: "no-store",
      signal: request.signal,
    });
  } catch {
    return gqlErrorResponse(502, "NETWORK", "The API could not be reached.");
  }
  if (upstream.status >= 400 && upstream.status < 500) {
    return new Response(upstream.body, { status: upstream.status, headers: { "content-type": "application/json", "cache-control": "no-store" } });
  }
  const key: unknown = upstream.ok ? await upstream.json().catch(() => null) : null;
  // Anything else than a key is not passed on as one: a reader must not check exports against it.
  if (!isExportKey(key)) return gqlErrorResponse(502, "UNAVAILABLE", "The API could not give the export key (see its log).");
  if (request.nextUrl.searchParams.get("download") === "1") {
    return new Response(key.publicKey, {
      headers: {
        "content-type": "application/x-pem-file",
        "content-disposition": `attachment; filename="rcmnet-audit-export-key-${key.fingerprint.slice(0, 12)}.pem"`,
        "cache-control": "no-store",
      },
    });
  }
  return Response.json(key, { headers: { "cache-control": "no-store" } });
}
