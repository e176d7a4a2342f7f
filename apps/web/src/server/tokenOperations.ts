// The /api/graphql proxy adds the session's API token to what the browser sends, so it must not
// forward the mutations that answer a new API token: the token would reach browser JavaScript
// (it stays on the server, see auth/options.ts), and a signed-in user could guess other
// accounts' passwords from the dashboard server's address (the API's per-address limit and the
// audit trail would name the server, not the client). The dashboard signs in through NextAuth,
// server-side, and changes passwords asking for `mustChangePassword` only (lib/operations.ts).
import { Kind, parse, type DocumentNode, type FragmentDefinitionNode, type SelectionSetNode } from "graphql";

/**
 * Root mutation fields that answer an API token: null where the field is refused whatever it
 * selects (login also signs in, which is NextAuth's), else the answer's fields that open a session
 * for it (a session whose token nobody here could hold would only time out later, on the record).
 */
const TOKEN_FIELDS: Readonly<Record<string, readonly string[] | null>> = { login: null, changeMyPassword: ["token", "expiresAt"] };

export interface Refusal {
  status: 400 | 403;
  code: "BAD_USER_INPUT" | "FORBIDDEN";
  message: string;
}

/**
 * Why the proxy must not forward this JSON body, or null to forward it. The whole document is
 * read, not the operation `operationName` picks: aliases do not hide a field's name, and
 * fragments are followed. What cannot be read (not JSON, no query text, a batch, a syntax error)
 * is refused too: the API could read it otherwise than this check did.
 */
export function refuseTokenOperation(body: string): Refusal | null {
  let request: unknown;
  try {
    request = JSON.parse(body);
  } catch {
    return badInput("The request body is not JSON.");
  }
  // Nor a persisted query's hash alone: what it stands for could not be checked.
  const query = request !== null && typeof request === "object" && !Array.isArray(request) ? (request as { query?: unknown }).query : undefined;
  if (typeof query !== "string") return badInput("A GraphQL request must be one JSON object with the query's text.");
  let document: DocumentNode;
  try {
    document = parse(query);
  } catch {
    return badInput("The GraphQL query could not be parsed.");
  }
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const d of document.definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) fragments.set(d.name.value, d);
  for (const d of document.definitions) {
    if (d.kind !== Kind.OPERATION_DEFINITION || d.operation !== "mutation") continue;
    for (const field of fieldsOf(d.selectionSet, fragments)) {
      const carrier = TOKEN_FIELDS[field.name];
      if (carrier === undefined) continue;
      if (carrier === null) return forbidden(`${field.name} is not available through the dashboard: sign in on its sign-in page.`);
      const asked = field.selectionSet && fieldsOf(field.selectionSet, fragments).find((f) => carrier.includes(f.name));
      if (asked) return forbidden(`${field.name}'s ${asked.name} is not handed to the browser: ask for its other fields.`);
    }
  }
  return null;
}

/** The fields a selection set selects at its own level, through inline fragments and spreads. */
function fieldsOf(set: SelectionSetNode, fragments: Map<string, FragmentDefinitionNode>, seen = new Set<string>()): { name: string; selectionSet?: SelectionSetNode }[] {
  const out: { name: string; selectionSet?: SelectionSetNode }[] = [];
  for (const s of set.selections) {
    if (s.kind === Kind.FIELD) out.push({ name: s.name.value, selectionSet: s.selectionSet });
    else if (s.kind === Kind.INLINE_FRAGMENT) out.push(...fieldsOf(s.selectionSet, fragments, seen));
    else {
      // A fragment spread in a cycle (invalid, the API refuses it) is read once.
      const fragment = fragments.get(s.name.value);
      if (!fragment || seen.has(s.name.value)) continue;
      seen.add(s.name.value);
      out.push(...fieldsOf(fragment.selectionSet, fragments, seen));
    }
  }
  return out;
}

function badInput(message: string): Refusal {
  return { status: 400, code: "BAD_USER_INPUT", message };
}

function forbidden(message: string): Refusal {
  return { status: 403, code: "FORBIDDEN", message };
}
