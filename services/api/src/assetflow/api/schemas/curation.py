"""Curation: groups of exact duplicates in a dataset, and images similar to one image."""

from pydantic import BaseModel, Field

from assetflow.api.schemas.images import ImagePublic


class DuplicateGroup(BaseModel):
    """Live images of one dataset with the same bytes (the same sha256)."""

    sha256: str = Field(description="sha256 of the images' bytes, 64 hex digits")
    count: int = Field(ge=2, description="how many live images have it (an exact counter)")
    items: list[ImagePublic] = Field(
        description="the group's images by path, at most 50 (count says how many there are)"
    )


class DuplicatesPage(BaseModel):
    """A page of duplicate groups, largest first (then by sha256)."""

    items: list[DuplicateGroup]
    next_cursor: str | None = Field(description="pass as ?cursor= for the next page; null: last")


class SimilarImage(ImagePublic):
    """An image and how far its perceptual hash is from the queried image's."""

    distance: int = Field(ge=0, le=64, description="Hamming distance of the pHashes, in bits")


class SimilarImages(BaseModel):
    """Images of the same dataset whose pHash is within ``k`` bits, nearest first."""

    image_id: str
    phash: str | None = Field(description="the image's pHash; null (and no items) until ready")
    k: int
    items: list[SimilarImage]


class NearDuplicateCluster(BaseModel):
    """Images whose pHashes are within ``k`` bits of each other, transitively."""

    size: int = Field(ge=2, description="images in the cluster")
    items: list[ImagePublic] = Field(description="its images by path, at most 50")


class NearDuplicateClusters(BaseModel):
    """A dataset's near-duplicate clusters, largest first, worked out from every live image."""

    k: int
    clusters: int = Field(description="clusters of 2 or more images in the dataset")
    images: int = Field(description="images that are in a cluster")
    offset: int
    items: list[NearDuplicateCluster]
