"use client";
import { signOut } from "next-auth/react";
import { useEffect } from "react";

export function EndSession({ callbackUrl, idle }: { callbackUrl: string; idle: boolean }) {
  useEffect(() => {
    void signOut({ callbackUrl: `/login?callbackUrl=${encodeURIComponent(callbackUrl)}${idle ? "&ended=idle" : ""}` });
  }, [callbackUrl, idle]);
  return null;
}
