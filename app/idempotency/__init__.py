"""Idempotency-Key records: each claimed key with the reply stored under it, and their purge.

Below the HTTP layer on purpose: app/api/idempotency.py claims keys and replays replies
(the HTTP protocol), and the scheduled purge (app/tasks) deletes old records; neither
the jobs nor any domain code depends on app/api.
"""
