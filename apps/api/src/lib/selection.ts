// Which fields a resolver's answer was asked for: some answers cost or record something only
// when a field is selected (a password change opens a session only for a client that asks for
// its token), so the resolver decides before the answer's fields resolve.
import { Kind, type FragmentDefinitionNode, type GraphQLResolveInfo, type SelectionSetNode } from "graphql";

/** Whether any of `names` is selected directly under this resolver's field, through fragments. */
export function selectsAny(info: Pick<GraphQLResolveInfo, "fieldNodes" | "fragments">, names: readonly string[]): boolean {
  const wanted = new Set(names);
  const seen = new Set<string>();
  const found = (set: SelectionSetNode | undefined): boolean =>
    (set?.selections ?? []).some((s) => {
      if (s.kind === Kind.FIELD) return wanted.has(s.name.value);
      if (s.kind === Kind.INLINE_FRAGMENT) return found(s.selectionSet);
      const fragment: FragmentDefinitionNode | undefined = info.fragments[s.name.value];
      if (!fragment || seen.has(s.name.value)) return false;
      seen.add(s.name.value);
      return found(fragment.selectionSet);
    });
  // An alias or a field asked twice is still its name; a field under @skip counts as asked for.
  return info.fieldNodes.some((node) => found(node.selectionSet));
}
