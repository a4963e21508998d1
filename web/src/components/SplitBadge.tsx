/** The split an image is in, as a small badge ("train", "val", "test"); nothing when in none. */
import type { Split } from "../filters";

export function SplitBadge({ split }: { split: Split | null | undefined }) {
  if (!split) return null;
  return (
    <span className={`badge split-badge split-${split}`} data-split-badge={split} title={`in the ${split} split`}>
      {split}
    </span>
  );
}
