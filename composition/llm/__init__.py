"""The LLM-backed bottom-up phase: seed conversations -> scenarios -> atomic tasks ->
compositional tasks -> filtering -> functions, each stage one class with one prompt file."""
