import type { Metadata } from "next";
import { requirePage } from "@/server/session";
import { Retraining } from "./Retraining";

export const metadata: Metadata = { title: "Retraining" };

export default async function RetrainingPage() {
  await requirePage("retraining", "/retraining");
  return <Retraining />;
}
