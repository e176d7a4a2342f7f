// PostgreSQL's text and jsonb cannot hold U+0000: a NUL in a reason, a comment or a filter reached
// the database and came back as an internal error. Refused at the edges instead, with the field.
import type { ApolloServerPlugin } from "@apollo/server";
import type { RequestHandler } from "express";
import { GraphQLError, Kind, visit } from "graphql";

const NUL = "\u0000";

/** Where in `value` (a path like `input.reason`) a string holds U+0000, or null where none does. */
export function nulAt(value: unknown, path = ""): string | null {
  if (typeof value === "string") return value.includes(NUL) ? path || "(value)" : null;
  if (value === null || typeof value !== "object") return null;
  for (const [key, v] of Object.entries(value)) {
    const found = nulAt(v, path ? `${path}.${key}` : key);
    if (found) return found;
  }
  return null;
}

export function nulMessage(where: string): string {
  return `${where} contains the NUL character (U+0000), which no field may hold: nothing was changed`;
}

/** GraphQL: variables and the operation's own string literals, before anything runs. */
export function nulTextPlugin<C extends object>(): ApolloServerPlugin<C> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ request, document }) {
          let where = nulAt(request.variables ?? {});
          if (!where) {
            visit(document, {
              [Kind.STRING]: (node) => {
                if (!where && node.value.includes(NUL)) where = "A string in the operation";
              },
            });
          }
          if (where) {
            throw new GraphQLError(nulMessage(where.startsWith("A string") ? where : `Variable ${where}`), {
              extensions: { code: "BAD_USER_INPUT", http: { status: 400 } },
            });
          }
        },
      };
    },
  };
}

/** REST: the query string (audit CSV filters, upload parameters). Multipart fields: parseMultipart. */
export const refuseNulQuery: RequestHandler = (req, res, next) => {
  const where = nulAt(req.query);
  if (!where) return next();
  res.status(400).json({ errors: [{ message: nulMessage(`Query parameter ${where}`), extensions: { code: "BAD_USER_INPUT" } }] });
};
