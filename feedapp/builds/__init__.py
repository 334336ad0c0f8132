"""One build end to end, the queue and per-store locks around it, and the status it leaves."""
