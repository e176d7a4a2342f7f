"use client";
import { signOut } from "next-auth/react";
import { useEffect } from "react";

export function EndSession({ callbackUrl }: { callbackUrl: string }) {
  useEffect(() => {
    void signOut({ callbackUrl: `/login?callbackUrl=${encodeURIComponent(callbackUrl)}` });
  }, [callbackUrl]);
  return null;
}
