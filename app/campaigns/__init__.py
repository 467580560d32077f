"""Campaigns: a segment, an action (a coupon, points, a subscribe message), a start time and a
holdout group; launched by a job in batches, with results against the holdout; and the churn
recall that enrolls members entering 流失预警. Sits above layers, mall, points and messaging."""
