"""What an operator or a user runs: the command line, the local stack, the HTTP client and the viewer."""
