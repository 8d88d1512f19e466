"""The IO-free core: the scene language, colours, errors, contracts, prompt, refinement and code generation.

Nothing here touches a socket, a file of the service's state, a model or a queue: it imports none of
llama_cpp, redis, rq, boto3, flask or requests (``make lint`` checks it with import-linter), so every
module can be tested and reasoned about as plain functions of their inputs.
"""
