"""The mailer: the two portal emails (templates, message building), the outbox dispatcher
and its transports (SMTP with aiosmtplib, or a local Maildir)."""
