"""The finance bureau's side: ``xlperf intake`` takes mailed xlperf submissions in from an IMAP
mailbox, a folder of .eml files or an mbox file, verifies each package against its manifest,
re-scores the frozen workbook, files it, keeps a ledger, and writes the same 汇总 as ``xlperf batch``.

- :mod:`xlperf.intake.sources` — the mailboxes (read-only IMAP in batches, .eml, mbox)
- :mod:`xlperf.intake.verify`  — one message → one checked submission (status and reason)
- :mod:`xlperf.intake.ledger`  — the SQLite ledger (idempotent re-runs, supersession, receipts)
- :mod:`xlperf.intake.run`     — the whole run and its 汇总
- :mod:`xlperf.intake.receipt` — the 回执 mails, through the submission outbox
"""
