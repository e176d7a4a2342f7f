"use client";
// The specimen field of the case forms: free text, with the usual names offered, since absolute
// counts are given only for a specimen named as peripheral blood.
import { useId } from "react";
import { SPECIMEN_SUGGESTIONS } from "@/lib/differential";

export function SpecimenField({ defaultValue, testId }: { defaultValue?: string; testId?: string }) {
  const listId = useId();
  return (
    <label>
      Specimen
      <input name="specimen" list={listId} defaultValue={defaultValue} maxLength={50} placeholder="e.g. peripheral blood" data-testid={testId} />
      <datalist id={listId}>
        {SPECIMEN_SUGGESTIONS.map((s) => (
          <option key={s} value={s} />
        ))}
      </datalist>
    </label>
  );
}
