"""The email inbox: parsing inbound mail, loop safety, bounces and the IMAP client.

Pure modules (no I/O): ``parse``, ``quotes``, ``loop_safety``, ``bounces``.
Network: ``imap`` (a thin aioimaplib wrapper).
"""
