"""The PostgreSQL channel a queued message is announced on; store/notify.py listens to it.
Apart from the listener, so that writing a message never loads the PostgreSQL driver."""

from __future__ import annotations

from sqlalchemy import text

CHANNEL = "otpgate_messages"
# sent inside the transaction that queues a message: PostgreSQL delivers it at commit
NOTIFY_MESSAGE_QUEUED = text(f"NOTIFY {CHANNEL}")
