using System.Diagnostics;
using SegServe.Inference.Telemetry;

namespace SegServe.Inference.Scheduling;

/// <summary>
/// One model's dynamic batcher (in the manner of Triton's): requests wait in a bounded queue; a batch leaves when it
/// is full, or when its oldest item has waited <see cref="BatchingSettings.MaxQueueDelay"/>, as soon as one of the
/// model's <see cref="BatchingSettings.Instances"/> is free. Only inputs of the same shape share a batch, taken in
/// arrival order. Every item carries a deadline and its caller's cancellation: an item that expires or is cancelled
/// while waiting leaves the queue at once, is answered, and never takes a batch slot. Every accepted item gets an
/// answer: its output, or an exception that says why not.
/// </summary>
public sealed class DynamicBatcher : IDisposable
{
    private readonly IBatchRunner _runner;
    private readonly BatchingSettings _settings;
    private readonly TimeProvider _time;
    private readonly InferenceMetrics? _metrics;
    private readonly Lock _gate = new();
    private readonly LinkedList<QueueItem> _items = new();
    private readonly SemaphoreSlim _instances;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Task _dispatcher;

    // Statistics, written under _gate or with Interlocked.
    private readonly long[] _outcomes = new long[5];
    private readonly long[] _batchSizes;
    private long _ranItems;
    private double _queueWaitMsSum;
    private long _batches;
    private double _runMsSum;
    private int _inFlight;

    // Recent cost of one item per instance (exponentially weighted), for Retry-After.
    private double _secondsPerItem = 0.01;

    private TaskCompletionSource _arrival = NewSignal();
    private bool _stopped;

    public DynamicBatcher(string model, IBatchRunner runner, BatchingSettings settings, TimeProvider timeProvider, InferenceMetrics? metrics = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(model);
        ArgumentNullException.ThrowIfNull(runner);
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(timeProvider);
        Model = model;
        _runner = runner;
        _settings = settings.Validated();
        _time = timeProvider;
        _metrics = metrics;
        _batchSizes = new long[settings.MaxBatchSize + 1];
        _instances = new SemaphoreSlim(settings.Instances, settings.Instances);
        _metrics?.Register(this);
        _dispatcher = Task.Run(DispatchAsync);
    }

    public string Model { get; }

    public BatchingSettings Settings => _settings;

    /// <summary>Requests waiting now.</summary>
    public int Depth
    {
        get
        {
            lock (_gate)
            {
                return _items.Count;
            }
        }
    }

    /// <summary>
    /// Queues one input (of <paramref name="shape"/>, without the batch axis) and returns its output once its batch
    /// has run. The input memory must stay untouched until the returned task completes.
    /// </summary>
    /// <exception cref="QueueFullException">Thrown at once when the queue is full.</exception>
    /// <exception cref="DeadlineExceededException">The task fails so when the deadline passes before a run is free.</exception>
    /// <exception cref="OperationCanceledException">The task is cancelled when <paramref name="cancellationToken"/> fires before the item ran.</exception>
    /// <exception cref="BatchFailedException">The task fails so when the model run failed.</exception>
    public Task<ModelOutput> EnqueueAsync(ReadOnlyMemory<float> input, long[] shape, DateTimeOffset deadline, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(shape);
        cancellationToken.ThrowIfCancellationRequested();
        DateTimeOffset now = _time.GetUtcNow();
        var item = new QueueItem(input, shape, _time.GetTimestamp(), now, deadline) { Caller = Activity.Current?.Context ?? default };
        if (deadline <= now)
        {
            Count(ItemOutcome.Expired);
            return Task.FromException<ModelOutput>(new DeadlineExceededException(Model, TimeSpan.Zero, TimeSpan.Zero));
        }

        // Callbacks first: either may run at once (a deadline already near, a token already cancelled), and then
        // the item is answered before it ever enters the queue.
        var expiry = new Expiry(this, item);
        item.DeadlineTimer = _time.CreateTimer(static state => ((Expiry)state!).Fire(), expiry, deadline - now, Timeout.InfiniteTimeSpan);
        if (cancellationToken.CanBeCanceled)
        {
            item.Cancellation = cancellationToken.Register(static state => ((Expiry)state!).Cancel(), expiry);
        }

        lock (_gate)
        {
            if (item.State == QueueItem.Waiting)
            {
                if (_stopped || _items.Count >= _settings.QueueCapacity)
                {
                    item.State = QueueItem.Abandoned;
                }
                else
                {
                    item.Node = _items.AddLast(item);
                    _arrival.TrySetResult();
                    return item.Completion.Task;
                }
            }
            else
            {
                return item.Completion.Task;
            }
        }

        item.DisposeCallbacks();
        if (_stopped)
        {
            throw new QueueStoppedException(Model);
        }

        Count(ItemOutcome.Rejected);
        throw new QueueFullException(Model, _settings.QueueCapacity, EstimateRetryAfter(_settings.QueueCapacity));
    }

    /// <summary>Outcomes, batch sizes and timings since start.</summary>
    public QueueStatistics Statistics()
    {
        lock (_gate)
        {
            var outcomes = new Dictionary<string, long>(StringComparer.Ordinal);
            foreach (ItemOutcome outcome in Enum.GetValues<ItemOutcome>())
            {
                outcomes[InferenceMetrics.OutcomeText(outcome)] = Interlocked.Read(ref _outcomes[(int)outcome]);
            }

            return new QueueStatistics(
                _items.Count,
                Volatile.Read(ref _inFlight),
                outcomes,
                (long[])_batchSizes.Clone(),
                _ranItems == 0 ? 0 : _queueWaitMsSum / _ranItems,
                _batches == 0 ? 0 : _runMsSum / _batches);
        }
    }

    /// <summary>Stops taking work: waiting items fail with <see cref="QueueStoppedException"/>; runs in progress finish (up to 10 s).</summary>
    public void Dispose()
    {
        List<QueueItem> abandoned;
        lock (_gate)
        {
            if (_stopped)
            {
                return;
            }

            _stopped = true;
            abandoned = [.. _items];
        }

        foreach (QueueItem item in abandoned)
        {
            Abandon(item, ItemOutcome.Failed, new QueueStoppedException(Model));
        }

        _stopping.Cancel();
        try
        {
            _dispatcher.Wait(TimeSpan.FromSeconds(10));
        }
        catch (AggregateException)
        {
            // The dispatcher ends by cancellation.
        }

        // Wait for runs in progress, so that the session is not disposed under them.
        for (int i = 0; i < _settings.Instances; i++)
        {
            _instances.Wait(TimeSpan.FromSeconds(10));
        }

        _metrics?.Unregister(this);
        _stopping.Dispose();
    }

    private async Task DispatchAsync()
    {
        CancellationToken stopping = _stopping.Token;
        try
        {
            while (true)
            {
                // Take an instance first: while all are busy, arrivals accumulate into fuller batches.
                await _instances.WaitAsync(stopping).ConfigureAwait(false);
                List<QueueItem> batch;
                try
                {
                    batch = await FormBatchAsync(stopping).ConfigureAwait(false);
                }
                catch
                {
                    _instances.Release();
                    throw;
                }

                Interlocked.Increment(ref _inFlight);
                _ = Task.Run(() => Execute(batch), CancellationToken.None);
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            // Stopping.
        }
    }

    /// <summary>Waits until a batch may leave, then takes it out of the queue.</summary>
    private async Task<List<QueueItem>> FormBatchAsync(CancellationToken stopping)
    {
        while (true)
        {
            Task arrival;
            TimeSpan? untilDue = null;
            long oldestTimestamp = 0;
            lock (_gate)
            {
                if (_arrival.Task.IsCompleted)
                {
                    _arrival = NewSignal();
                }

                if (_items.First is LinkedListNode<QueueItem> first)
                {
                    QueueItem oldest = first.Value;
                    TimeSpan waited = _time.GetElapsedTime(oldest.EnqueuedTimestamp);
                    List<QueueItem> batch = CollectSameShape(oldest);
                    if (batch.Count >= _settings.MaxBatchSize || waited >= _settings.MaxQueueDelay)
                    {
                        foreach (QueueItem item in batch)
                        {
                            item.State = QueueItem.Claimed;
                            _items.Remove(item.Node!);
                        }

                        return batch;
                    }

                    untilDue = _settings.MaxQueueDelay - waited;
                    oldestTimestamp = oldest.EnqueuedTimestamp;
                }

                arrival = _arrival.Task;
            }

            if (untilDue is TimeSpan delay)
            {
                // Whichever comes first: a new arrival (the batch may now be full) or the oldest item falling due.
                using var wake = CancellationTokenSource.CreateLinkedTokenSource(stopping);
                Task due = Task.Delay(delay, _time, wake.Token);

                // The clock may have moved between reading it and making the timer (a timer made late is due late):
                // if the oldest item fell due meanwhile, form the batch now instead of waiting for a timer that is
                // due after its time. Once the timer exists, any later move of the clock fires it.
                if (_time.GetElapsedTime(oldestTimestamp) < _settings.MaxQueueDelay)
                {
                    await Task.WhenAny(arrival, due).ConfigureAwait(false);
                }

                await wake.CancelAsync().ConfigureAwait(false);
                stopping.ThrowIfCancellationRequested();
            }
            else
            {
                await arrival.WaitAsync(stopping).ConfigureAwait(false);
            }
        }
    }

    /// <summary>The oldest item and, in arrival order, the next ones of the same shape, up to the batch size.</summary>
    private List<QueueItem> CollectSameShape(QueueItem oldest)
    {
        var batch = new List<QueueItem>(Math.Min(_settings.MaxBatchSize, _items.Count)) { oldest };
        for (LinkedListNode<QueueItem>? node = oldest.Node!.Next; node is not null && batch.Count < _settings.MaxBatchSize; node = node.Next)
        {
            if (node.Value.Shape.AsSpan().SequenceEqual(oldest.Shape))
            {
                batch.Add(node.Value);
            }
        }

        return batch;
    }

    private void Execute(List<QueueItem> batch)
    {
        long start = _time.GetTimestamp();
        DateTimeOffset startedAt = _time.GetUtcNow();
        int count = batch.Count;
        Activity? span = InferenceTelemetry.HasListeners ? InferenceTelemetry.StartBatch(Model, count, Callers(batch), startedAt) : null;
        string? failed = null;
        try
        {
            var inputs = new ReadOnlyMemory<float>[count];
            for (int i = 0; i < count; i++)
            {
                QueueItem item = batch[i];
                item.DisposeCallbacks();
                inputs[i] = item.Input;
            }

            IReadOnlyList<ModelOutput?> outputs;
            IReadOnlyList<Exception?>? failures = null;
            try
            {
                outputs = _runner.RunBatch(inputs, batch[0].Shape);
                if (outputs.Count != count)
                {
                    foreach (ModelOutput? output in outputs)
                    {
                        output?.Dispose();
                    }

                    throw new InvalidOperationException($"The model returned {outputs.Count} outputs for a batch of {count}.");
                }
            }
            catch (Execution.PartialBatchException partial) when (partial.Outputs.Count == count)
            {
                // The batch was split and some of its items could run: each gets its own answer.
                outputs = partial.Outputs;
                failures = partial.Failures;
            }
#pragma warning disable CA1031 // Any failure of the run fails this batch's items, and only them.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                var failure = new BatchFailedException($"The model run (a batch of {count}) failed: {ex.Message}", ex);
                failed = failure.Message;
                foreach (QueueItem item in batch)
                {
                    Count(ItemOutcome.Failed);
                    item.Completion.TrySetException(failure);
                }

                return;
            }

            TimeSpan runTime = _time.GetElapsedTime(start);
            Record(batch, start, runTime);
            for (int i = 0; i < count; i++)
            {
                if (outputs[i] is not ModelOutput output)
                {
                    Exception cause = failures?[i] ?? new InvalidOperationException("The model returned no output.");
                    Count(ItemOutcome.Failed);
                    batch[i].Completion.TrySetException(new BatchFailedException($"The model run failed for this image: {cause.Message}", cause));
                    continue;
                }

                output.BatchSize = count;
                output.QueueWait = _time.GetElapsedTime(batch[i].EnqueuedTimestamp, start);
                output.RunTime = runTime;
                output.RunStartedAt = startedAt;
                output.BatchActivity = span?.Context ?? default;
                Count(ItemOutcome.Ok);
                if (!batch[i].Completion.TrySetResult(output))
                {
                    output.Dispose();
                }
            }
        }
        finally
        {
            InferenceTelemetry.EndBatch(span, startedAt + _time.GetElapsedTime(start), failed);
            Interlocked.Decrement(ref _inFlight);
            _instances.Release();
        }
    }

    private static ActivityContext[] Callers(List<QueueItem> batch)
    {
        var callers = new ActivityContext[batch.Count];
        for (int i = 0; i < callers.Length; i++)
        {
            callers[i] = batch[i].Caller;
        }

        return callers;
    }

    private void Record(List<QueueItem> batch, long start, TimeSpan runTime)
    {
        lock (_gate)
        {
            _batches++;
            _batchSizes[batch.Count]++;
            _runMsSum += runTime.TotalMilliseconds;
            foreach (QueueItem item in batch)
            {
                double waitMs = _time.GetElapsedTime(item.EnqueuedTimestamp, start).TotalMilliseconds;
                _ranItems++;
                _queueWaitMsSum += waitMs;
                _metrics?.QueueWait(Model, TimeSpan.FromMilliseconds(waitMs));
            }

            double perItem = runTime.TotalSeconds / batch.Count;
            _secondsPerItem = (0.8 * _secondsPerItem) + (0.2 * perItem);
        }

        _metrics?.Batch(Model, batch.Count, runTime);
    }

    /// <summary>Seconds until the queue has room again: its length times the recent cost of an item, spread over the instances.</summary>
    private TimeSpan EstimateRetryAfter(int queued)
    {
        double seconds = Math.Ceiling(queued * _secondsPerItem / _settings.Instances);
        return TimeSpan.FromSeconds(Math.Clamp(seconds, 1, 3600));
    }

    /// <summary>Removes a waiting item and answers it; does nothing once the item was taken into a batch.</summary>
    private void Abandon(QueueItem item, ItemOutcome outcome, Exception? exception)
    {
        lock (_gate)
        {
            if (item.State != QueueItem.Waiting)
            {
                return;
            }

            item.State = QueueItem.Abandoned;
            if (item.Node?.List is not null)
            {
                _items.Remove(item.Node);
            }

            // (An item whose callback fires while it is being queued is answered here and never enters the queue.)
        }

        item.DisposeCallbacks();
        Count(outcome);
        if (exception is null)
        {
            item.Completion.TrySetCanceled(item.CancellationToken);
        }
        else
        {
            item.Completion.TrySetException(exception);
        }
    }

    private void Count(ItemOutcome outcome)
    {
        Interlocked.Increment(ref _outcomes[(int)outcome]);
        _metrics?.Item(Model, outcome);
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>The deadline timer's and the cancellation's callback state.</summary>
    private sealed class Expiry(DynamicBatcher queue, QueueItem item)
    {
        public void Fire() =>
            queue.Abandon(item, ItemOutcome.Expired, new DeadlineExceededException(queue.Model, queue._time.GetUtcNow() - item.EnqueuedAt, item.Deadline - item.EnqueuedAt));

        public void Cancel() => queue.Abandon(item, ItemOutcome.Cancelled, null);
    }

    /// <summary>One request in the queue.</summary>
    private sealed class QueueItem(ReadOnlyMemory<float> input, long[] shape, long enqueuedTimestamp, DateTimeOffset enqueuedAt, DateTimeOffset deadline)
    {
        public const int Waiting = 0;
        public const int Claimed = 1;
        public const int Abandoned = 2;

        public ReadOnlyMemory<float> Input { get; } = input;

        public long[] Shape { get; } = shape;

        public long EnqueuedTimestamp { get; } = enqueuedTimestamp;

        public DateTimeOffset EnqueuedAt { get; } = enqueuedAt;

        public DateTimeOffset Deadline { get; } = deadline;

        /// <summary>The span of the request that queued the item (default when untraced): the batch's span links to it.</summary>
        public ActivityContext Caller { get; init; }

        /// <summary>Answers are never run inline on the thread that completes them (a model run, a timer).</summary>
        public TaskCompletionSource<ModelOutput> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary><see cref="Waiting"/>, <see cref="Claimed"/> or <see cref="Abandoned"/>; changed under the queue's lock.</summary>
        public int State { get; set; }

        public LinkedListNode<QueueItem>? Node { get; set; }

        public ITimer? DeadlineTimer { get; set; }

        public CancellationTokenRegistration Cancellation { get; set; }

        public CancellationToken CancellationToken => Cancellation.Token;

        public void DisposeCallbacks()
        {
            DeadlineTimer?.Dispose();
            Cancellation.Unregister();
        }
    }
}
