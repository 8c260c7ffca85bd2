"""Use-cases: orchestrate domain rules and persistence. Services flush; callers commit."""
