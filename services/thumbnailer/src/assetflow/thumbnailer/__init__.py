"""Thumbnailer: thumbnails, previews, dimensions, EXIF and thumbhash for uploaded images."""
