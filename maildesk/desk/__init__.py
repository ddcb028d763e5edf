"""The domain: tickets and their events, threading, rules, bounces, loops, notices.

Functions over a session and plain data; mail goes out as outbox rows (notify),
never from here. What they need of the wiring is `context.Desk`.
"""
