"""Running the engine over a cluster (Ray): partitioned scans and archive rescans."""
