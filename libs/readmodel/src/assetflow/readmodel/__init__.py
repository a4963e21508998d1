"""Read models in MongoDB: documents, field names, indexes, counters, filters, transactions,
migrations and the client. Imports the contracts and the platform."""
