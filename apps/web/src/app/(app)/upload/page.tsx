import type { Metadata } from "next";
import { requirePage } from "@/server/session";
import { Upload } from "./Upload";

export const metadata: Metadata = { title: "Upload" };

export default async function UploadPage({ searchParams }: { searchParams: Promise<{ caseId?: string }> }) {
  await requirePage("upload", "/upload");
  const { caseId } = await searchParams;
  return <Upload initialCaseId={typeof caseId === "string" ? caseId : null} />;
}
