"""Domain logic that two services share: annotations (COCO, editing), zip import checks and
API tokens. Imports the contracts and the read models."""
