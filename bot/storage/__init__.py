"""Persistence: SQLite (aiosqlite, the embedded default) or PostgreSQL (asyncpg). All SQL of the product
lives in this package."""
