"""tapswitch benchmark suite: the same workloads on tapswitch and its peers, in one run."""
