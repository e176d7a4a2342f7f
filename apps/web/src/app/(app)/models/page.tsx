import type { Metadata } from "next";
import { requirePage } from "@/server/session";
import { Models } from "./Models";

export const metadata: Metadata = { title: "Models" };

export default async function ModelsPage() {
  const s = await requirePage("models", "/models");
  return <Models role={s.role} userId={s.uid} />;
}
