"""Chat commands, one module per feature. Platform-neutral: no telegram/nio imports, no SQL."""
