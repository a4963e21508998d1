/** What a bulk command (tags, splits) works on: images picked by id, or every image a filter
 * matches; and the command bodies' selections that carry it. */
import { type Filter, filterWhere } from "./filters";

export type Target = { ids: string[] } | { where: Filter };

/** ``ids`` in batches of at most ``size`` (the API takes 1,000 ids per command). */
export function batches<T>(ids: T[], size = 1000): T[][] {
  return Array.from({ length: Math.ceil(ids.length / size) }, (_, i) => ids.slice(i * size, (i + 1) * size));
}

/** One command body's selection per batch of ids, or the filter as one ``where``. */
export function targetBatches(target: Target): ({ ids: string[] } | { where: ReturnType<typeof filterWhere> })[] {
  return "ids" in target ? batches(target.ids).map((ids) => ({ ids })) : [{ where: filterWhere(target.where) }];
}
