"""Annotations of one image (read, replace, patch), label counts and COCO imports."""

from pydantic import BaseModel, ConfigDict, Field

from assetflow.readmodel.annotations import MAX_SHAPES, Shape


class ImageAnnotations(BaseModel):
    """An image's annotations at one revision; the revision is also the response's ETag."""

    image_id: str
    revision: int = Field(description="0 until the image is first annotated")
    annotations: list[Shape]


class ReplaceAnnotations(BaseModel):
    """Every shape of the image (the previous ones are replaced)."""

    model_config = ConfigDict(extra="forbid")

    annotations: list[Shape] = Field(max_length=MAX_SHAPES)


class PatchAnnotations(BaseModel):
    """Shapes to add or replace by id, and ids of shapes to delete."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "anyOf": [
                {"required": ["upsert"], "properties": {"upsert": {"minItems": 1}}},
                {"required": ["delete"], "properties": {"delete": {"minItems": 1}}},
            ]
        },
    )

    upsert: list[Shape] = Field(default_factory=list, max_length=MAX_SHAPES)
    delete: list[str] = Field(default_factory=list, max_length=MAX_SHAPES)


class LabelCount(BaseModel):
    """How many shapes carry a label, on how many live images of the dataset."""

    label: str
    shapes: int
    images: int


class ImportResult(BaseModel):
    """What an import wrote, and everything it could not use (with reasons)."""

    images: int = Field(description="images whose annotations were replaced")
    shapes: int = Field(description="shapes written")
    unmatched: list[str] = Field(description="file names with no live image in the dataset")
    errors: list[str] = Field(description="per image or annotation: why it was skipped")
