/** The virtualized image grid: only the rows in view are in the DOM; nearing the end loads the
 * next page by cursor. Arrow keys move, Enter opens, Space selects (unless read-only). */
import { useVirtualizer } from "@tanstack/react-virtual";
import { useCallback, useEffect, useLayoutEffect, useRef, useState } from "react";
import { Tile, type TileImage } from "./Tile";

const TILE = 176;
const GAP = 8;

interface Props<T extends TileImage> {
  images: T[];
  hasMore: boolean;
  loadingMore: boolean;
  loadMore: () => void;
  /** Absent: read-only (a share link), nothing is selected. */
  isSelected?: (image: T) => boolean;
  onPick?: (index: number, event: React.MouseEvent | React.KeyboardEvent) => void;
  onOpen: (index: number) => void;
  onKey?: (event: React.KeyboardEvent, focused: number) => boolean;
  label: string;
}

export function Grid<T extends TileImage>({
  images,
  hasMore,
  loadingMore,
  loadMore,
  isSelected,
  onPick,
  onOpen,
  onKey,
  label,
}: Props<T>) {
  const scroller = useRef<HTMLDivElement>(null);
  const [columns, setColumns] = useState(4);
  const [tile, setTile] = useState(TILE);
  const [focused, setFocused] = useState(0);

  useLayoutEffect(() => {
    const element = scroller.current;
    if (!element) return;
    const measure = () => {
      const width = element.clientWidth - GAP;
      const n = Math.max(2, Math.floor(width / (TILE + GAP)));
      setColumns(n);
      setTile(Math.floor(width / n) - GAP);
    };
    measure();
    const observer = new ResizeObserver(measure);
    observer.observe(element);
    return () => observer.disconnect();
  }, []);

  const rows = Math.ceil(images.length / columns) + (hasMore ? 1 : 0);
  const virtualizer = useVirtualizer({
    count: rows,
    getScrollElement: () => scroller.current,
    estimateSize: () => tile + GAP,
    overscan: 2,
    // Let React batch scroll updates instead of rendering synchronously in each scroll event.
    useFlushSync: false,
  });
  // Stable callbacks, so a Tile (memo) re-renders only when its own image or state changes,
  // not on every scroll frame.
  const latest = useRef({ onPick, onOpen });
  latest.current = { onPick, onOpen };
  const pickTile = useCallback((index: number, event: React.MouseEvent) => {
    setFocused(index);
    latest.current.onPick?.(index, event);
  }, []);
  const openTile = useCallback((index: number) => {
    setFocused(index);
    latest.current.onOpen(index);
  }, []);
  useEffect(() => virtualizer.measure(), [tile, virtualizer]);

  const visible = virtualizer.getVirtualItems();
  const lastRow = visible.length ? visible[visible.length - 1].index : 0;
  useEffect(() => {
    if (hasMore && !loadingMore && lastRow >= rows - 3) loadMore();
  }, [hasMore, loadingMore, lastRow, rows, loadMore]);

  const focus = Math.min(focused, Math.max(0, images.length - 1));
  const move = (to: number) => {
    const next = Math.max(0, Math.min(images.length - 1, to));
    setFocused(next);
    virtualizer.scrollToIndex(Math.floor(next / columns), { align: "auto" });
  };

  return (
    <div
      ref={scroller}
      className="grid-scroll"
      role="grid"
      aria-label={label}
      aria-rowcount={Math.ceil(images.length / columns)}
      aria-activedescendant={images.length ? `tile-${focus}` : undefined}
      tabIndex={0}
      onKeyDown={(event) => {
        if (onKey?.(event, focus)) return;
        const step: Record<string, number> = { ArrowRight: 1, ArrowLeft: -1, ArrowDown: columns, ArrowUp: -columns };
        if (event.key in step) move(focus + step[event.key]);
        else if (event.key === "Home") move(0);
        else if (event.key === "End") move(images.length - 1);
        else if (event.key === "Enter" && images.length) onOpen(focus);
        else if (event.key === " " && images.length && onPick) onPick(focus, event);
        else return;
        event.preventDefault();
      }}
    >
      <div style={{ height: virtualizer.getTotalSize(), position: "relative" }}>
        {visible.map((row) => {
          const start = row.index * columns;
          const cells = images.slice(start, start + columns);
          return (
            <div
              key={row.key}
              role="row"
              className="grid-row"
              style={{
                transform: `translateY(${row.start}px)`,
                gridTemplateColumns: `repeat(${columns}, ${tile}px)`,
                height: tile,
              }}
            >
              {cells.map((image, i) => (
                <Tile
                  key={image.id}
                  image={image}
                  index={start + i}
                  selected={isSelected?.(image) ?? false}
                  focused={start + i === focus}
                  onPick={onPick ? pickTile : null}
                  onOpen={openTile}
                />
              ))}
              {cells.length === 0 && <div className="loading-row">Loading more…</div>}
            </div>
          );
        })}
      </div>
    </div>
  );
}
