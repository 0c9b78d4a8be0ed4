"""Status webhooks out: signed POSTs of message status changes, retried with backoff (docs/pipeline.md §9)."""
