"""Operations: run records and locks, interrupted runs, alerts, the health check."""
