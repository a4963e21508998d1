"""Wire contracts: events, commands, topics, the key layout, sequencers, tag rules and the
exception tree. Pydantic only; imports nothing else of ours."""
