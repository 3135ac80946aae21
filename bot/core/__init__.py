"""The domain: articles, ingestion, normalisation, matching, summaries, alert planning.

Nothing below this package imports a platform library (telegram, nio) or the database driver.
"""
