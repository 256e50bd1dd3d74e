"""Notifications: an in-app list for each user and an email outbox.

A notification is written in the same transaction as the change that causes
it, so a rolled-back change never tells anyone anything; the delivery job
sends pending emails after the commit. Messages carry references, agency
names, deadlines and links — never a service user's name or any detail of
her life (callers pass only those; ``tests`` check every message).
"""
