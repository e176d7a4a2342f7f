// Query shape limits, run as GraphQL validation rules before execution: maximum depth and a
// field budget (fields selected after fragment expansion), so one request cannot ask for an
// unbounded tree. Pagination caps (`first`) bound the list sizes separately.
import { GraphQLError, Kind, type ASTVisitor, type FragmentDefinitionNode, type SelectionSetNode, type ValidationContext } from "graphql";

export function queryShapeLimit(maxDepth: number, maxFields: number) {
  return (context: ValidationContext): ASTVisitor => {
    const fragments = new Map<string, FragmentDefinitionNode>();
    for (const def of context.getDocument().definitions) {
      if (def.kind === Kind.FRAGMENT_DEFINITION) fragments.set(def.name.value, def);
    }
    let fields = 0;
    let reported = false;
    const report = (message: string) => {
      if (reported) return;
      reported = true;
      context.reportError(new GraphQLError(message, { extensions: { code: "BAD_USER_INPUT" } }));
    };
    const walk = (set: SelectionSetNode, depth: number, seen: Set<string>): void => {
      if (reported) return;
      if (depth > maxDepth) return report(`Query is too deep (more than ${maxDepth} levels)`);
      for (const sel of set.selections) {
        if (sel.kind === Kind.FIELD) {
          if (++fields > maxFields) return report(`Query selects too many fields (more than ${maxFields})`);
          if (sel.selectionSet) walk(sel.selectionSet, depth + 1, seen);
        } else if (sel.kind === Kind.INLINE_FRAGMENT) {
          walk(sel.selectionSet, depth, seen);
        } else {
          const name = sel.name.value;
          const frag = fragments.get(name);
          // Fragment cycles are reported by the standard NoFragmentCycles rule; just stop.
          if (!frag || seen.has(name)) continue;
          walk(frag.selectionSet, depth, new Set([...seen, name]));
        }
      }
    };
    return {
      OperationDefinition(node) {
        walk(node.selectionSet, 1, new Set());
      },
    };
  };
}
