/** Images whose perceptual hash is within k bits of the viewed image's, nearest first, with their
 * distance; clicking one opens it. Nothing to ask until the image has a pHash (thumbnailed). */
import type { Image } from "../api/client";
import { useSimilar } from "../api/queries";
import { distanceLabel, MAX_K, parseK } from "../curation";
import { Failure } from "./Failure";

interface Props {
  image: Image;
  k: number;
  onK: (k: number) => void;
  onOpen: (imageId: string) => void;
}

export function Similar({ image, k, onK, onOpen }: Props) {
  const similar = useSimilar(image.id, k, image.phash);
  const items = similar.data?.items ?? [];
  return (
    <section className="similar" aria-label="similar images">
      <h3 className="similar-title">
        Similar
        <label className="similar-k">
          within
          <select value={k} onChange={(event) => onK(parseK(event.target.value, k))} aria-label="Largest distance">
            {Array.from({ length: MAX_K + 1 }, (_, bits) => (
              <option key={bits} value={bits}>
                {bits}
              </option>
            ))}
          </select>
          bits
        </label>
      </h3>
      {!image.phash ? (
        <p className="muted">
          No perceptual hash yet{image.status === "pending" ? " (the image is still being processed)" : ""}.
        </p>
      ) : similar.error ? (
        <Failure error={similar.error} />
      ) : similar.isPending ? (
        <p className="muted">Looking…</p>
      ) : items.length === 0 ? (
        <p className="muted">No other image within {distanceLabel(k)}.</p>
      ) : (
        <ul className="similar-strip">
          {items.map((item) => (
            <li key={item.id} data-image={item.id} data-distance={item.distance}>
              <button
                type="button"
                onClick={() => onOpen(item.id)}
                title={item.path}
                aria-label={`Open ${item.path}, ${distanceLabel(item.distance)} away`}
              >
                {item.thumb_url ? (
                  <img src={item.thumb_url} alt="" loading="lazy" decoding="async" draggable={false} />
                ) : (
                  <span className="similar-name">{item.file_name}</span>
                )}
                <span className="similar-distance">{distanceLabel(item.distance)}</span>
              </button>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
