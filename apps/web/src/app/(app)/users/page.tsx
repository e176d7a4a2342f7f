import type { Metadata } from "next";
import { requirePage } from "@/server/session";
import { Users } from "./Users";

export const metadata: Metadata = { title: "Users" };

export default async function UsersPage() {
  const s = await requirePage("users", "/users");
  return <Users selfId={s.uid} />;
}
