"""The mail library: raw bytes to `Incoming` and drafts back to bytes. Pure.

Headers, charsets, MIME, TNEF, HTML, quotes, delivery reports, automatic-mail
classes, signed Message-IDs, addresses we deliver to. It imports nothing from
the database, the desk or the network; its tests need none of them.
"""
