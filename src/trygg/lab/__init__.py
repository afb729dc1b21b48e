"""The lab: evaluation, data-set readers, training and benchmarks, apart from the shipped runtime."""
