/** The audit page's URL filters -> the API's AuditFilter (unknown keys and bad dates are ignored). */
export function auditFilterFrom(params: URLSearchParams): Record<string, string> {
  const filter: Record<string, string> = {};
  for (const key of ["entityType", "entityId", "actorLogin", "action", "from", "to"]) {
    const v = params.get(key)?.trim();
    if (!v) continue;
    if (key === "from" || key === "to") {
      const d = new Date(v);
      if (!Number.isNaN(d.getTime())) filter[key] = d.toISOString();
    } else filter[key] = v;
  }
  return filter;
}
