"""The daemon around the monitor: run ledger, cron schedules, scheduled steps, portal sync, heartbeat, health."""
