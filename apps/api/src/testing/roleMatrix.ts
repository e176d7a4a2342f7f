// Shared types for the role matrix (src/roleMatrix.int.test.ts). A module whose schema adds
// mutations exports `matrixCases: MatrixCase[]` from src/modules/<name>/roleMatrix.ts.
export interface MatrixFixture {
  caseId: string;
  cellId: string;
  /** The slide of cellId (a case IN_REVIEW). */
  slideId: string;
  signOffId: string;
  /** A user ADMIN operations may target (not one of the signed-in principals). */
  targetUserId: string;
  /** Any uuid that exists nowhere. */
  missingId: string;
}

export interface MatrixCase {
  /** Mutation field name. */
  mutation: string;
  /** The full GraphQL document calling it. */
  query: string;
  variables: (fx: MatrixFixture) => Record<string, unknown>;
}
