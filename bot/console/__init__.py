"""The operator's console: Prometheus metrics, the status page and alerts to admins.

- :mod:`bot.console.metrics`: this process's counters and histograms, and the one-line calls
  the pipeline makes to count (fetches, summaries, deliveries, flood waits, push lag).
- :mod:`bot.console.snapshot`: what is read from the database (source health, queues,
  deliveries, gate acceptance, processes), in bounded indexed queries, kept for a few seconds.
- :mod:`bot.console.heartbeat`: each process's row (role, heartbeat, recent errors).
- :mod:`bot.console.status_page`: the HTML page.
- :mod:`bot.console.admin_alerts`: problems told to ``telegram.admins``, once an hour at most.
- :mod:`bot.console.server`: the listener (``[status] listen``) and the background refresh.
"""
