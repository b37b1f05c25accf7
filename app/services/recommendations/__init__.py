"""Recommendations: opportunities and events ranked for a founder, explained per criterion.

- `facts`     what matching knows of a profile and an item
- `criteria`  the verdict and sentence per criterion (the reference definition)
- `features`  the same verdicts for every item at once, as arrays
- `text`      text similarity providers (TF-IDF; Azure OpenAI embeddings)
- `index`     each process's in-memory index of recommendable items, kept fresh
- `behaviour` interactions (co-interaction, popularity) and a user's own feedback
- `ranking`   the blend, what dismissals teach, diversity (pure)
- `cache`     each user's cached ranking per kind
- `service`   the use cases: recommend, match, similar, the worker's refreshes
- `audience`  k-anonymous counts of who an opportunity's rules reach
- `engine`    one process's pool, provider, indexes (`current()` for tasks)
"""
