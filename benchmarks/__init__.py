"""Scale benchmarks: a simulated chat-completions endpoint and the scenarios measured against it."""
