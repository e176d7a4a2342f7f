"use client";
// The "Void image" flow, shared by the review page's Images panel and the upload page's analysis
// table, so that each lists the case's images once, with the button on the image's own line. The
// dialog asks for the reason and stays open while the request runs: a refusal (a case signed
// meanwhile, an analysis moved on, a colleague's void) is shown inside it with the reason as typed.
import type { ReactNode } from "react";
import { useAsk } from "@/components/AskDialog";
import { ErrorBox } from "@/components/ui";
import { gql } from "@/lib/gql";
import { VOID_SLIDE } from "@/lib/operations";
import { useAction } from "@/lib/useAction";
import type { NumberedImage } from "./caseImages";
import { voidQuestion, voidVariables } from "./voidImage";

/**
 * onVoided: loads the page's images again. onRefused: a void the API refused (an analysis moved
 * on since the images were loaded: they are loaded again, to be looked at before asking again;
 * a try from the same dialog is still checked against the version it was opened on).
 * Returns the button for one image, and `feedback` (the dialog and the refusal), rendered once.
 */
export function useVoidImage({
  onVoided,
  onRefused,
}: {
  onVoided: () => void;
  onRefused?: () => void;
}): { voidButton: (image: NumberedImage) => ReactNode; feedback: ReactNode } {
  const { ask, dialog } = useAsk({ testId: "void-dialog" });
  const { act, busy, actionError } = useAction(async () => onVoided());

  function voidImage(image: NumberedImage) {
    // Refused, the dialog stays open with the reason as typed.
    return ask(voidQuestion(image), (reason) =>
      act(async () => {
        try {
          await gql(VOID_SLIDE, voidVariables(image, reason));
        } catch (e) {
          onRefused?.();
          throw e;
        }
      }),
    );
  }

  const voidButton = (image: NumberedImage) => (
    <button type="button" disabled={busy} onClick={() => void voidImage(image)} data-testid="void-image">
      Void image
    </button>
  );
  const feedback = (
    <>
      <ErrorBox error={actionError} testId="void-error" />
      {dialog}
    </>
  );
  return { voidButton, feedback };
}
