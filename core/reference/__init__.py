"""Building and proving the shipped reference results: `build` trains every run the front pages need
and writes `reference/` (data and a manifest); `prove` trains them again on this machine, at the lowest
priority, and records whether each reproduced. Reading the folder lives below the run store, in
core.shipped; this package sits above the story and the jobs, whose runs it trains.
"""
