"""Built-in claims, one module per family of docs/claims.md (registered on import).

The list of modules lives in :data:`verify.engine.runner.BUILTIN_MODULES`.
"""
