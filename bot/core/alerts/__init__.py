"""Pure building blocks of alerts and digests: schedules in local time, message text, splitting, pacing.

No storage and no scheduler here; the delivery service composes these with the outbox. Import from the
modules themselves (``compose``, ``schedule``, ``split``, ``pacing``): one path per name.
"""
