"""trygg: an open-source child-safety engine for social platforms."""

__version__ = "0.1.0"

#: Garbage-collector thresholds for trygg's long-running jobs (the ``trygg`` command, cluster
#: actors). An engine holds the state of tens of thousands of conversations; at Python's default
#: (a collection every 700 new container objects) the collector re-walks that state so often
#: that it cost about a fifth of a scan's time. Every 20,000 objects keeps cyclic garbage small
#: and the collector's share near 5%.
GC_THRESHOLDS = (20_000, 20, 10)
