/** A listing filter, as the URL holds it (shareable, back button) and as the API takes it. */

export const STATUSES = ["pending", "ready", "rejected", "failed"] as const;
export type Status = (typeof STATUSES)[number];

export interface Filter {
  folder: string | null;
  status: Status | null;
  tags: string[];
  match: "all" | "any";
  untagged: boolean;
}

export function parseFilter(params: URLSearchParams): Filter {
  const status = params.get("status");
  const tags = (params.get("tags") ?? "")
    .split(",")
    .map((tag) => tag.trim())
    .filter(Boolean);
  return {
    folder: params.get("folder"),
    status: (STATUSES as readonly string[]).includes(status ?? "") ? (status as Status) : null,
    tags,
    match: params.get("match") === "any" ? "any" : "all",
    untagged: params.get("untagged") === "true",
  };
}

/** The filter as query parameters; defaults left out so equal filters give equal URLs. */
export function filterParams(filter: Filter): Record<string, string> {
  const out: Record<string, string> = {};
  if (filter.folder !== null) out.folder = filter.folder;
  if (filter.status) out.status = filter.status;
  if (filter.tags.length) out.tags = filter.tags.join(",");
  if (filter.tags.length && filter.match === "any") out.match = "any";
  if (filter.untagged) out.untagged = "true";
  return out;
}

/** The filter as the API's `where` body (snapshots, bulk tagging). */
export function filterWhere(filter: Filter) {
  return {
    folder: filter.folder,
    status: filter.status,
    tags: filter.tags,
    match: filter.match,
    untagged: filter.untagged,
    duplicates: false,
  };
}

export function isFiltered(filter: Filter): boolean {
  return Object.keys(filterParams(filter)).length > 0;
}
