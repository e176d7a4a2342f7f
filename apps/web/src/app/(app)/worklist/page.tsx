import type { Metadata } from "next";
import { canOpen } from "@/auth/roles";
import { requirePage } from "@/server/session";
import { Worklist } from "./Worklist";

export const metadata: Metadata = { title: "Worklist" };

export default async function WorklistPage() {
  const s = await requirePage("worklist", "/worklist");
  return <Worklist canReview={canOpen("review", s.role)} canUpload={canOpen("upload", s.role)} canReport={canOpen("report", s.role)} />;
}
