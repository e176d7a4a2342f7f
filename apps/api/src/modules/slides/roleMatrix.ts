import type { MatrixCase } from "../../testing/roleMatrix.ts";

export const matrixCases: MatrixCase[] = [
  {
    mutation: "voidSlide",
    // A stale expectedUpdatedAt: an allowed role gets past authorization to a CONFLICT, and the
    // fixture's slide stays in the case for the other mutations.
    query: `mutation($id: ID!, $at: DateTime!) { voidSlide(slideId: $id, reason: "wrong patient", expectedUpdatedAt: $at) { id } }`,
    variables: (fx) => ({ id: fx.slideId, at: "2000-01-01T00:00:00.000Z" }),
  },
];
