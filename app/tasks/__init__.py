"""Background work: tasks, schedules and the engine that runs them (Taskiq).

- `registry.py`  declare tasks (`@task("domain.verb")`) and schedules (`every(...)`)
- `runtime.py`   one process's engine: in-process without REDIS_URL, Redis streams with it
- `brokers.py`, `middleware.py`, `scheduler.py`  the engine's parts and the traps they close
- `claims.py`    due work claimed in MongoDB, one conditional update per unit
- `effects.py`   idempotent effects (unique keys, the effects ledger)
- one module per domain (`email.py`, …) whose tasks call services

Services enqueue (`await some_task.kiq(...)`) and never wait for a task's result.
"""
