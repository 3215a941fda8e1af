namespace SegServe.Inference.Scheduling;

/// <summary>The queue is full: the request was not accepted. Retry after <see cref="RetryAfter"/>.</summary>
public sealed class QueueFullException(string model, int capacity, TimeSpan retryAfter)
    : Exception($"The queue of model '{model}' is full ({capacity} requests waiting); retry in about {Math.Ceiling(retryAfter.TotalSeconds)} s.")
{
    public TimeSpan RetryAfter { get; } = retryAfter;
}

/// <summary>The request's deadline passed while it waited in the queue; it never ran.</summary>
public sealed class DeadlineExceededException(string model, TimeSpan waited, TimeSpan timeout)
    : Exception($"The request waited {waited.TotalMilliseconds:0} ms in the queue of model '{model}' and passed its deadline ({timeout.TotalMilliseconds:0} ms) before a model run was free.")
{
    public TimeSpan Waited { get; } = waited;
}

/// <summary>The batch this request ran in failed; other batches are unaffected.</summary>
public sealed class BatchFailedException(string message, Exception innerException) : Exception(message, innerException);

/// <summary>The queue is shutting down and takes no more work.</summary>
public sealed class QueueStoppedException(string model)
    : Exception($"Model '{model}' is shutting down and accepts no more requests.");
