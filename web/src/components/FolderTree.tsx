/** The dataset's folders as a tree; each shows its images including its subfolders'. */
import { useMemo, useState } from "react";
import { useFolders } from "../api/queries";
import { count } from "../format";
import { folderTree, type FolderNode as Node } from "../folders";

interface Props {
  datasetId: string;
  selected: string | null;
  onSelect: (folder: string | null) => void;
}

export function FolderTree({ datasetId, selected, onSelect }: Props) {
  const folders = useFolders(datasetId);
  const root = useMemo(() => folderTree(folders.data?.folders ?? []), [folders.data]);
  if (!folders.data) return <p className="muted">…</p>;
  return (
    <ul className="tree" role="tree" aria-label="folders">
      <li role="treeitem" aria-selected={selected === null}>
        <button type="button" className={selected === null ? "current" : ""} onClick={() => onSelect(null)}>
          all folders <span className="count">{count(root.total)}</span>
        </button>
      </li>
      {root.own > 0 && (
        <li role="treeitem" aria-selected={selected === ""}>
          <button type="button" className={selected === "" ? "current" : ""} onClick={() => onSelect("")}>
            <em>top level</em> <span className="count">{count(root.own)}</span>
          </button>
        </li>
      )}
      {root.children.map((child) => (
        <Branch key={child.path} node={child} selected={selected} onSelect={onSelect} />
      ))}
    </ul>
  );
}

function Branch({ node, selected, onSelect }: { node: Node; selected: string | null; onSelect: (f: string) => void }) {
  const inside = selected !== null && (selected === node.path || selected.startsWith(`${node.path}/`));
  const [open, setOpen] = useState(inside);
  return (
    <li role="treeitem" aria-selected={selected === node.path} aria-expanded={node.children.length ? open : undefined}>
      {node.children.length > 0 && (
        <button
          type="button"
          className="twisty"
          aria-label={`${open ? "Collapse" : "Expand"} ${node.name}`}
          onClick={() => setOpen(!open)}
        >
          {open ? "▾" : "▸"}
        </button>
      )}
      <button
        type="button"
        className={selected === node.path ? "current" : ""}
        title={node.own === node.total ? undefined : `${count(node.own)} here, ${count(node.total)} with subfolders`}
        onClick={() => onSelect(node.path)}
      >
        {node.name} <span className="count">{count(node.own)}</span>
      </button>
      {open && node.children.length > 0 && (
        <ul role="group">
          {node.children.map((child) => (
            <Branch key={child.path} node={child} selected={selected} onSelect={onSelect} />
          ))}
        </ul>
      )}
    </li>
  );
}
