"""Zip imports: the request document (``imports``), written by the API, advanced by the
snapshotter."""

from typing import Final

COLLECTION: Final = "imports"


class I:  # noqa: E742 - the field-name class of this module, like F, S and A elsewhere
    """Field names of an import document."""

    ID: Final = "_id"
    DATASET_ID: Final = "dataset_id"
    KEY: Final = "key"
    STATUS: Final = "status"
    PROBLEMS: Final = "problems"
    IMAGES_TOTAL: Final = "images_total"
    IMAGES_DONE: Final = "images_done"
    ANNOTATED: Final = "annotated"
    ANNOTATION_ERRORS: Final = "annotation_errors"
    CREATED_AT: Final = "created_at"
    UPDATED_AT: Final = "updated_at"
    FINISHED_AT: Final = "finished_at"
