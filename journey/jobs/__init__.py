"""Scheduled jobs: what each gets (`context`) and the one list of them (`registry`)."""
