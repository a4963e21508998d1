"""The API's service layer: every database query and every presigned URL is made here.

Routes parse a request, call one service function and shape its response; services take
plain values (ids, filters, positions, the caller's permissions) and return documents,
items or domain values, never HTTP responses. Each feature's service is built once in the
lifespan (main.py) over the clients it needs and reaches routes through deps.py.
"""

from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

Database = AsyncDatabase[dict[str, Any]]
