"use client";
import { signOutHere } from "@/lib/signOutHere";
import { useEffect } from "react";

export function EndSession({ callbackUrl, idle }: { callbackUrl: string; idle: boolean }) {
  useEffect(() => {
    void signOutHere(`/login?callbackUrl=${encodeURIComponent(callbackUrl)}${idle ? "&ended=idle" : ""}`);
  }, [callbackUrl, idle]);
  return null;
}
