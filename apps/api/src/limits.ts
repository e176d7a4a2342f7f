// Query shape limits, run as GraphQL validation rules before execution: maximum depth and a
// field budget (fields selected after fragment expansion), so one request cannot ask for an
// unbounded tree; and an estimated cost that multiplies nested pages by their sizes, so many
// aliased large pages cannot add up to millions of rows (queryCostLimit).
import {
  GraphQLError, Kind,
  type ASTVisitor, type DocumentNode, type FieldNode, type FragmentDefinitionNode, type GraphQLNamedType, type GraphQLOutputType,
  type GraphQLSchema, type OperationDefinitionNode, type SelectionSetNode, type ValidationContext,
} from "graphql";
import { PAGE_LIMITS, type PageLimit } from "./lib/pagination.ts";

export function queryShapeLimit(maxDepth: number, maxFields: number) {
  return (context: ValidationContext): ASTVisitor => {
    const fragments = fragmentsOf(context.getDocument());
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

/** Fields whose resolver does work, or whose value is large, out of proportion to one row. */
export const FIELD_COSTS: Record<string, number> = {
  // Recomputes the hash of every audit event: one per request (half the default budget).
  "Query.verifyAuditTrail": 50_000,
  // A signed report lists every cell of its case (~100 KB for 500 cells): priced so that pages
  // of cases cannot pull thousands of them into one answer; one case's versions stay cheap.
  "SignOff.content": 2_000,
  // A run's log holds up to 200,000 characters.
  "TrainingRun.log": 200,
  // Runs two models over up to 5,000 TEST cells in the request: more than one per request is refused.
  "Query.compareModels": 60_000,
  // Hashes a whole signed report again, like reading its content.
  "Query.verifySignOff": 2_000,
  // Three queries per slide of the case, slide after slide.
  "Query.caseAnalysisProgress": 500,
  // Resolvers that run queries of their own for every row they appear in (not batched by a
  // DataLoader): priced by the queries, so that aliased pages of them cannot fan out into tens
  // of thousands of statements while counting as a few rows.
  // A case's cell page and its count. (Fields of a connection count once per row of its page,
  // so pricing totalCount would charge a count query a thousand times.)
  "Case.cells": 40,
  "ModelVersion.predictionCount": 50,
  "ModelVersion.parent": 5,
  "ModelVersion.trainingRun": 5,
  "ModelVersion.promotions": 5,
  "ModelVersion.testSet": 5,
  "ModelPromotion.modelVersion": 5,
  "DatasetSnapshot.splitCounts": 20,
  "DatasetSnapshot.labelCounts": 20,
  "DatasetSnapshot.relabelledSince": 50,
  "TrainingRun.snapshot": 5,
  "TrainingRun.baseModel": 5,
  "TrainingRun.producedModel": 5,
  "Case.signOffs": 5,
  "Case.currentSignOff": 5,
  "SignOff.supersedes": 5,
  "ModelPromotion.evidence": 20,
  "ModelPromotion.lostClasses": 5,
  // The champion's re-prediction: its job, the cells still due (a count over every open case's
  // undecided cells) and the cells its events name, unbatched.
  "ModelVersion.reprediction": 500,
};

/**
 * Rows assumed for a list without pagination (its size is the data's, which validation cannot
 * see): about what the list holds on a busy case or model, so that what is selected below it
 * counts per row, and a cycle through such lists (a model version's promotions, each one's model
 * version, its promotions, ...) grows with every hop as the statements it runs do. The
 * connections' `nodes` are not among them: the paged field above counts their rows (PAGE_LIMITS).
 * A list not named here counts DEFAULT_LIST_SIZE rows.
 */
export const LIST_SIZES: Record<string, number> = {
  // A cell's decisions: one, a second only after a second look or in an amendment (batched by a
  // DataLoader, and a cell page of 1,000 selects them for every cell).
  "Cell.reviews": 1,
  // One per champion that predicted the cell (the history panel, one cell at a time).
  "Cell.predictions": 3,
  // A case's images: a few smear fields, or a few dozen crops.
  "Case.slides": 20,
  "CaseAnalysisProgress.slides": 20,
  // A first report and now and then an amendment (each version's content is priced in FIELD_COSTS).
  "Case.signOffs": 2,
  // One row per class: a model's classes and the human-only ones.
  "Differential.rows": 15,
  "Differential.excluded": 5,
  "PromotionFigures.perClass": 15,
  "PromotionEvidence.regressions": 15,
  // One per case status.
  "Query.caseStatusCounts": 5,
  // A version's proposals, rejections and rollbacks, each loaded by a query per version.
  "ModelVersion.promotions": 10,
};
export const DEFAULT_LIST_SIZE = 20;

/**
 * Estimated rows a query can make the server produce: every selected field counts once per
 * row it appears in, and a paginated field multiplies what is below it by its page size (the
 * literal `first`, the field's maximum when `first` is a variable, since validation runs before
 * variables are bound, else its default; PAGE_LIMITS). Aliases and fragments are counted where
 * they are used. The depth and field limits alone let 85 aliased copies of
 * `cases(first: 200) { nodes { cells(first: 1000) { ... } } }` through: 17 million cells.
 * Lists without pagination (a cell's prediction versions, a case's slides) are bounded by the
 * data, not by the query, and multiply what is below them by the rows they are assumed to hold
 * (LIST_SIZES, else DEFAULT_LIST_SIZE): counted once, a cycle through them
 * (ModelVersion.promotions -> ModelPromotion.modelVersion -> promotions, each hop a query per
 * row) estimated at ~60 per alias while it ran ~500 statements, ~24,000 for 50 aliases.
 */
export function queryCostLimit(maxCost: number) {
  return (context: ValidationContext): ASTVisitor => ({
    OperationDefinition(node) {
      if (estimateQueryCost(context.getSchema(), context.getDocument(), node, maxCost) > maxCost) {
        context.reportError(new GraphQLError(`Query is too expensive (more than ${maxCost.toLocaleString("en")} estimated rows and fields; ask for smaller pages)`, { extensions: { code: "BAD_USER_INPUT" } }));
      }
    },
  });
}

/** The cost queryCostLimit checks, for one operation; the count stops once it passes `stopAbove`. */
export function estimateQueryCost(schema: GraphQLSchema, document: DocumentNode, operation: OperationDefinitionNode, stopAbove = Infinity): number {
  const fragments = fragmentsOf(document);
  let cost = 0;
  // `page`: the set is a paged field's (a connection): its list (`nodes`) is the page, already counted.
  const walk = (set: SelectionSetNode, parent: GraphQLNamedType | undefined, rows: number, seen: Set<string>, page: boolean): void => {
    for (const sel of set.selections) {
      if (cost > stopAbove) return;
      if (sel.kind === Kind.FIELD) {
        const field = parent && "getFields" in parent ? parent.getFields()[sel.name.value] : undefined;
        const key = `${parent?.name}.${sel.name.value}`;
        cost += rows * (1 + (FIELD_COSTS[key] ?? 0));
        if (!sel.selectionSet) continue;
        const limit = (PAGE_LIMITS as Record<string, PageLimit>)[key];
        const below = limit ? rows * pageRows(sel, limit) : field && !page && isList(field.type as GraphQLOutputType) ? rows * (LIST_SIZES[key] ?? DEFAULT_LIST_SIZE) : rows;
        walk(sel.selectionSet, field && namedType(field.type as GraphQLOutputType), below, seen, Boolean(limit));
      } else if (sel.kind === Kind.INLINE_FRAGMENT) {
        walk(sel.selectionSet, sel.typeCondition ? (schema.getType(sel.typeCondition.name.value) ?? undefined) : parent, rows, seen, page);
      } else {
        const frag = fragments.get(sel.name.value);
        // Unknown fragments and cycles are reported by the standard rules.
        if (!frag || seen.has(frag.name.value)) continue;
        walk(frag.selectionSet, schema.getType(frag.typeCondition.name.value) ?? undefined, rows, new Set([...seen, frag.name.value]), page);
      }
    }
  };
  walk(operation.selectionSet, schema.getRootType(operation.operation) ?? undefined, 1, new Set(), false);
  return cost;
}

function fragmentsOf(document: DocumentNode): Map<string, FragmentDefinitionNode> {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const def of document.definitions) {
    if (def.kind === Kind.FRAGMENT_DEFINITION) fragments.set(def.name.value, def);
  }
  return fragments;
}

/** The page size a paginated field will return at most, as far as validation can tell. */
function pageRows(field: FieldNode, limit: PageLimit): number {
  const first = field.arguments?.find((a) => a.name.value === "first")?.value;
  if (!first || first.kind === Kind.NULL) return limit.default;
  if (first.kind === Kind.INT) return Math.min(Math.max(Number(first.value), 1), limit.max);
  return limit.max;
}

/** Whether a field's type is a list (under a non-null or not): structural, for namedType's reason. */
function isList(type: GraphQLOutputType): boolean {
  const t = "ofType" in type && type[Symbol.toStringTag] === "GraphQLNonNull" ? type.ofType : type;
  return t[Symbol.toStringTag] === "GraphQLList";
}

/**
 * The type under lists and non-nulls. Structural on purpose: graphql's own isObjectType and
 * getNamedType use instanceof, which fails (or throws) when the schema was built by another
 * copy of the graphql module than this file's (CommonJS vs ES module under a test runner).
 */
function namedType(type: GraphQLOutputType): GraphQLNamedType {
  let t: GraphQLOutputType = type;
  while ("ofType" in t) t = t.ofType;
  return t;
}
