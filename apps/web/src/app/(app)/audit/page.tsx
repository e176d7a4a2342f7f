import type { Metadata } from "next";
import { requirePage } from "@/server/session";
import { AuditTrail } from "./AuditTrail";

export const metadata: Metadata = { title: "Audit trail" };

export default async function AuditPage() {
  await requirePage("audit", "/audit");
  return <AuditTrail />;
}
