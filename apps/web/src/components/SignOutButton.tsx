"use client";
import { signOutHere } from "@/lib/signOutHere";

export function SignOutButton() {
  return (
    <button type="button" onClick={() => void signOutHere("/login")} data-testid="sign-out">
      Sign out
    </button>
  );
}
