"""The operators' numbers: daily rollups written by a job, read by the dashboard and the tier page."""
