"""SQLite persistence (aiosqlite). All SQL of the product lives in this package."""
