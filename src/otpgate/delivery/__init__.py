"""Message delivery: the worker that drains the queue, and one sender per SMS provider."""
