"""Research tools that build and measure what trygg ships (training, evaluation); not needed at run time."""
