/** Shapes drawn over an image in its own pixel coordinates (the SVG's viewBox is the image's
 * size), with move and resize of boxes and move of polygons by dragging. */
import { useRef } from "react";
import type { Shape } from "../api/client";

interface Props {
  width: number;
  height: number;
  shapes: Shape[];
  selected: string | null;
  onSelect: (id: string | null) => void;
  onChange: (shape: Shape) => void;
}

type Drag = { id: string; mode: "move" | "resize"; from: [number, number]; start: Shape };

const COLORS = ["#ff3b30", "#34c759", "#0a84ff", "#ff9f0a", "#bf5af2", "#64d2ff", "#ffd60a", "#ff375f"];

/** A stable colour per label. */
export function labelColor(label: string): string {
  let hash = 0;
  for (const ch of label) hash = (hash * 31 + ch.charCodeAt(0)) | 0;
  return COLORS[Math.abs(hash) % COLORS.length];
}

export function AnnotationLayer({ width, height, shapes, selected, onSelect, onChange }: Props) {
  const svg = useRef<SVGSVGElement>(null);
  const drag = useRef<Drag | null>(null);
  const stroke = Math.max(2, Math.round(Math.max(width, height) / 400));

  const at = (event: React.PointerEvent): [number, number] => {
    const matrix = svg.current!.getScreenCTM()!.inverse();
    const point = new DOMPoint(event.clientX, event.clientY).matrixTransform(matrix);
    return [point.x, point.y];
  };
  const begin = (event: React.PointerEvent, shape: Shape, mode: Drag["mode"]) => {
    event.stopPropagation();
    (event.target as Element).setPointerCapture(event.pointerId);
    onSelect(shape.id);
    drag.current = { id: shape.id, mode, from: at(event), start: shape };
  };
  const moveTo = (event: React.PointerEvent) => {
    const current = drag.current;
    if (!current) return;
    const [x, y] = at(event);
    const dx = x - current.from[0];
    const dy = y - current.from[1];
    const { start } = current;
    if (start.bbox) {
      const [bx, by, bw, bh] = start.bbox;
      const bbox: [number, number, number, number] =
        current.mode === "move"
          ? [clamp(bx + dx, 0, width - bw), clamp(by + dy, 0, height - bh), bw, bh]
          : [bx, by, clamp(bw + dx, 1, width - bx), clamp(bh + dy, 1, height - by)];
      onChange({ ...start, bbox: bbox.map(round) as typeof bbox });
    } else if (start.points) {
      onChange({
        ...start,
        points: start.points.map(([px, py]) => [round(px + dx), round(py + dy)] as [number, number]),
      });
    }
  };

  return (
    <svg
      ref={svg}
      className="annotations"
      viewBox={`0 0 ${width} ${height}`}
      preserveAspectRatio="none"
      role="group"
      aria-label="annotations"
      onPointerDown={() => onSelect(null)}
      onPointerMove={moveTo}
      onPointerUp={() => (drag.current = null)}
    >
      {shapes.map((shape) => {
        const color = labelColor(shape.label);
        const isSelected = shape.id === selected;
        const common = {
          stroke: color,
          strokeWidth: isSelected ? stroke * 2 : stroke,
          fill: isSelected ? `${color}33` : "transparent",
          onPointerDown: (event: React.PointerEvent) => begin(event, shape, "move"),
          "data-shape": shape.id,
          "data-label": shape.label,
        };
        if (shape.bbox) {
          const [x, y, w, h] = shape.bbox;
          return (
            <g key={shape.id} aria-label={`${shape.label} box`}>
              <rect x={x} y={y} width={w} height={h} {...common} />
              <text x={x + stroke} y={Math.max(y - stroke * 2, stroke * 8)} fill={color} fontSize={stroke * 8}>
                {shape.label}
              </text>
              {isSelected && (
                <rect
                  className="handle"
                  x={x + w - stroke * 4}
                  y={y + h - stroke * 4}
                  width={stroke * 8}
                  height={stroke * 8}
                  fill={color}
                  aria-label="resize"
                  onPointerDown={(event) => begin(event, shape, "resize")}
                />
              )}
            </g>
          );
        }
        if (shape.points && shape.type === "polygon") {
          const [x, y] = shape.points[0];
          return (
            <g key={shape.id} aria-label={`${shape.label} polygon`}>
              <polygon points={shape.points.map((p) => p.join(",")).join(" ")} {...common} />
              <text x={x} y={y - stroke * 2} fill={color} fontSize={stroke * 8}>
                {shape.label}
              </text>
            </g>
          );
        }
        if (shape.points) {
          return (
            <g key={shape.id} aria-label={`${shape.label} points`}>
              {shape.points.map(([px, py], i) => (
                <circle key={i} cx={px} cy={py} r={stroke * 2} {...common} fill={color} />
              ))}
            </g>
          );
        }
        return null;
      })}
    </svg>
  );
}

function clamp(value: number, low: number, high: number): number {
  return Math.min(Math.max(value, low), Math.max(low, high));
}

function round(value: number): number {
  return Math.round(value * 10) / 10;
}
