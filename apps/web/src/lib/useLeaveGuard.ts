"use client";
// Asks before leaving a page that holds work the server has not got yet: a reload, a closed tab
// or a typed address (beforeunload), and a click on an in-app link, which a client-side router
// navigates without beforeunload.
import { useEffect } from "react";
import { sessionEnding } from "./gql";

export function useLeaveGuard(active: boolean, message: string): void {
  useEffect(() => {
    if (!active) return;
    const onBeforeUnload = (e: BeforeUnloadEvent) => {
      // A session the API ended is left whatever the page holds: the work is lost either way, and
      // a "Stay" would leave a dead page that refuses every action.
      if (sessionEnding()) return;
      e.preventDefault();
      e.returnValue = ""; // older browsers show their own text; custom text is ignored everywhere now
    };
    // Capture on the document runs before the router's handler on the link (React listens at its root).
    const onClick = (e: MouseEvent) => {
      if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
      const link = (e.target as Element | null)?.closest?.("a[href]");
      if (!(link instanceof HTMLAnchorElement) || link.target === "_blank" || link.hasAttribute("download")) return;
      if (link.origin !== window.location.origin || window.confirm(message)) return;
      e.preventDefault();
      e.stopPropagation();
    };
    window.addEventListener("beforeunload", onBeforeUnload);
    document.addEventListener("click", onClick, true);
    return () => {
      window.removeEventListener("beforeunload", onBeforeUnload);
      document.removeEventListener("click", onClick, true);
    };
  }, [active, message]);
}
