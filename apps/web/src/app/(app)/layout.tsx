import Link from "next/link";
import { redirect } from "next/navigation";
import type { ReactNode } from "react";
import { canOpen, NAV, ROLE_LABEL } from "@/auth/roles";
import { currentSession } from "@/server/session";
import { ChangePassword } from "@/components/ChangePassword";
import { NavLinks } from "@/components/NavLinks";
import { SessionWatch } from "@/components/SessionWatch";
import { env } from "@/env";
import { SignOutButton } from "@/components/SignOutButton";
import { SignInNotice } from "@/components/SignInNotice";

export default async function AppLayout({ children }: { children: ReactNode }) {
  const session = await currentSession();
  if (!session) redirect("/login");
  const links = NAV.filter((n) => canOpen(n.page, session.role)).map(({ href, label }) => ({ href, label }));
  return (
    <div className="shell">
      <header className="topbar">
        <Link href="/worklist" className="brand">
          RCMNet
        </Link>
        <NavLinks links={links} />
        <div className="usermenu" data-testid="user-menu">
          <span data-testid="user-name">{session.name}</span>
          <span className="role" data-testid="user-role" title={session.role}>
            {ROLE_LABEL[session.role]}
          </span>
          <Link href="/account" data-testid="account-link">
            Account
          </Link>
          <SignOutButton />
        </div>
      </header>
      <SessionWatch idleTimeoutSeconds={env.RCMNET_IDLE_TIMEOUT_SECONDS} />
      <SignInNotice signIn={`${session.uid}:${session.apiExpiresAt}`} previousSignInAt={session.previousSignInAt} failedSignInsBefore={session.failedSignInsBefore} />
      {/* A password an administrator set is replaced before any page opens (the API refuses signatures with it anyway). */}
      <main>{session.mustChangePassword ? <ChangePassword login={session.login} forced /> : children}</main>
    </div>
  );
}
