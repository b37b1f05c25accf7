"""Notifications: the inbox, preferences, `notify` (every producer's one entry point), the
real-time stream, e-mail (instant and digests) and one-click unsubscribe. One job per module:

- `notify`       create a notification once per (user, key), applying preferences
- `inbox`        list, unread count, read, read all, archive, resume a stream
- `preferences`  defaults, read, replace, unsubscribe a category's e-mail
- `timing`       digest times, quiet hours, reminder moments in the user's zone (pure)
- `stream`       the pub/sub hub behind `GET /notifications/stream`
- `mailing`      instant e-mails and digests (run by the worker)
"""

from app.services.notifications.notify import Draft, notify

__all__ = ["Draft", "notify"]
