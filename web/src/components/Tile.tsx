/** One image in the grid: its ThumbHash at once, the WebP thumb over it when loaded, its status
 * and split. */
import { memo, useState } from "react";
import { thumbHashToDataURL } from "thumbhash";
import type { Image } from "../api/client";
import { SplitBadge } from "./SplitBadge";

// Bounded: scrolling through 100k images must not keep 100k data URLs.
const placeholders = new Map<string, string>();
const MAX_PLACEHOLDERS = 2000;

/** The placeholder's data URL, decoded once per hash (tiles remount while scrolling). */
export function placeholder(hash: string | null): string | undefined {
  if (!hash) return undefined;
  let url = placeholders.get(hash);
  if (url === undefined) {
    try {
      url = thumbHashToDataURL(Uint8Array.from(atob(hash), (c) => c.charCodeAt(0)));
    } catch {
      url = "";
    }
    if (placeholders.size >= MAX_PLACEHOLDERS) placeholders.clear();
    placeholders.set(hash, url);
  }
  return url || undefined;
}

/** What a tile shows of an image: a dataset's item, or a share link's (which has fewer fields). */
export type TileImage = Pick<
  Image,
  "id" | "file_name" | "thumb_url" | "thumbhash" | "status" | "status_reason" | "split" | "tags"
>;

interface Props {
  image: TileImage;
  index: number;
  selected: boolean;
  focused: boolean;
  /** Null: read-only (a share link), no selection. */
  onPick: ((index: number, event: React.MouseEvent) => void) | null;
  onOpen: (index: number) => void;
}

export const Tile = memo(function Tile({ image, index, selected, focused, onPick, onOpen }: Props) {
  const [loaded, setLoaded] = useState(false);
  const hash = placeholder(image.thumbhash);
  const problem = image.status === "rejected" || image.status === "failed";
  return (
    <div
      role="gridcell"
      id={`tile-${index}`}
      aria-selected={selected}
      data-image={image.id}
      data-status={image.status}
      data-split={image.split ?? undefined}
      className={`tile${selected ? " selected" : ""}${focused ? " focused" : ""}`}
      // The placeholder only until the thumb is in: painting both costs frames while scrolling.
      style={hash && !loaded ? { backgroundImage: `url(${hash})` } : undefined}
      onClick={(event) =>
        onPick && (event.shiftKey || event.metaKey || event.ctrlKey) ? onPick(index, event) : onOpen(index)
      }
    >
      {image.thumb_url && (
        <img
          src={image.thumb_url}
          alt={image.file_name}
          loading="lazy"
          decoding="async"
          draggable={false}
          className={loaded ? "thumb loaded" : "thumb"}
          onLoad={() => setLoaded(true)}
        />
      )}
      {!image.thumb_url && <span className="tile-name">{image.file_name}</span>}
      {onPick && (
        <input
          type="checkbox"
          className="pick"
          aria-label={`Select ${image.file_name}`}
          checked={selected}
          onClick={(event) => {
            event.stopPropagation();
            onPick(index, event);
          }}
          onChange={() => undefined}
          tabIndex={-1}
        />
      )}
      {(image.status !== "ready" || image.split) && (
        <span className="tile-badges">
          {image.split && <SplitBadge split={image.split} />}
          {image.status !== "ready" && (
            <span
              className={`badge ${image.status}`}
              title={problem ? (image.status_reason ?? image.status) : image.status}
            >
              {image.status}
            </span>
          )}
        </span>
      )}
      {image.tags.length > 0 && <span className="tile-tags">{image.tags.slice(0, 3).join(", ")}</span>}
    </div>
  );
});
