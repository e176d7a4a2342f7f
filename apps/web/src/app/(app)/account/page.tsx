import type { Metadata } from "next";
import { ChangePassword } from "@/components/ChangePassword";
import { requirePage } from "@/server/session";

export const metadata: Metadata = { title: "Account" };

export default async function AccountPage() {
  const s = await requirePage("account", "/account");
  return <ChangePassword login={s.login} forced={s.mustChangePassword} />;
}
